// The local cloud's stand-in for ACM: one folder per certificate under a data
// directory, the private key in a file only its owner can read.
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CertificateBundle, CertificateStore } from './certificate-store.ts';

const ARN_PREFIX = 'arn:aws:acm:local:000000000000:certificate/';

export interface StoredCertificate {
  certificateArn: string;
  hostname: string;
  chainPem: string;
}

export class LocalCertificateStore implements CertificateStore {
  constructor(private readonly directory: string) {}

  async install(bundle: CertificateBundle, replaceArn?: string): Promise<string> {
    const certificateArn = replaceArn ?? `${ARN_PREFIX}${randomUUID()}`;
    const folder = this.folderOf(certificateArn);
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const stored: StoredCertificate = { certificateArn, hostname: bundle.hostname, chainPem: bundle.chainPem };
    // Write then rename: a reader never sees a half-written certificate or a key from another one.
    await writeAtomically(join(folder, 'key.pem'), bundle.privateKeyPem, 0o600);
    await writeAtomically(join(folder, 'certificate.json'), JSON.stringify(stored), 0o644);
    return certificateArn;
  }

  /** The certificate installed for a hostname, with its key: for the local router only. */
  async findForHostname(hostname: string): Promise<(StoredCertificate & { privateKeyPem: string }) | undefined> {
    const folders = await readdir(this.directory).catch(() => []);
    for (const id of folders) {
      const stored = await readJson(join(this.directory, id, 'certificate.json'));
      if (stored?.hostname === hostname) {
        return { ...stored, privateKeyPem: await readFile(join(this.directory, id, 'key.pem'), 'utf8') };
      }
    }
    return undefined;
  }

  private folderOf(certificateArn: string): string {
    return join(this.directory, certificateArn.slice(ARN_PREFIX.length));
  }
}

async function writeAtomically(path: string, content: string, mode: number): Promise<void> {
  const temporary = `${path}.${randomUUID()}.tmp`;
  await writeFile(temporary, content, { mode });
  await rename(temporary, path);
}

async function readJson(path: string): Promise<StoredCertificate | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as StoredCertificate;
  } catch {
    return undefined;
  }
}
