// The local cloud's stand-in for ACM: one folder per certificate under a data
// directory. Private keys are kept encrypted (AES-256-GCM) under a master key in a
// file of that directory that only its owner can read; a plaintext key never
// touches the disk, and is decrypted only for the local router.
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { access, link, mkdir, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CertificateInUseError, type CertificateBundle, type CertificateStore } from './certificate-store.ts';

const ARN_PREFIX = 'arn:aws:acm:local:000000000000:certificate/';
const ARN_ID = /^[0-9A-Za-z-]{1,64}$/;
/** The master key's file in the store's directory: 32 random bytes, mode 0600. */
export const MASTER_KEY_FILE = 'master.key';
/** Each certificate's one file: chain, names and encrypted key, replaced together in one rename. */
export const CERTIFICATE_FILE = 'certificate.json';
const CIPHER = 'aes-256-gcm';
const MASTER_KEY_BYTES = 32;
const IV_BYTES = 12;

export interface StoredCertificate {
  certificateArn: string;
  hostname: string;
  /** The names it serves, lower case; `*.example.com` serves one label under example.com. */
  names: string[];
  chainPem: string;
}

/** What is on disk: the key as AES-256-GCM iv, tag and ciphertext (base64), bound to the ARN. */
interface StoredRecord extends StoredCertificate {
  installedAt: string;
  installId?: string;
  privateKey: { cipher: typeof CIPHER; iv: string; tag: string; ciphertext: string };
}

export class LocalCertificateStore implements CertificateStore {
  /** Certificates a (pretend) load balancer holds: removing one fails as ACM's ResourceInUseException does. */
  readonly inUse = new Set<string>();

  constructor(private readonly directory: string) {}

  async install(bundle: CertificateBundle, replaceArn?: string): Promise<string> {
    const certificateArn = replaceArn ?? `${ARN_PREFIX}${randomUUID()}`;
    const folder = this.folderOf(certificateArn);
    const masterKey = await this.masterKey();
    // Like ACM: re-importing into a certificate that was deleted is an error, not a resurrection.
    if (replaceArn && !(await exists(folder))) throw new Error(`certificate ${replaceArn} does not exist`);
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const names = [...new Set((bundle.names?.length ? bundle.names : [bundle.hostname]).map(normaliseName))];
    const record: StoredRecord = {
      certificateArn,
      hostname: bundle.hostname,
      names,
      chainPem: bundle.chainPem,
      installedAt: new Date().toISOString(),
      // Like ACM's tags, the install id is the first import's: a re-import keeps it.
      ...(await this.keptInstallId(replaceArn, bundle.installId)),
      privateKey: seal(masterKey, bundle.privateKeyPem, certificateArn),
    };
    // One file, written then renamed: a reader never sees a half-written certificate, nor
    // a new key with an old chain while a renewal replaces both.
    await writeAtomically(join(folder, CERTIFICATE_FILE), JSON.stringify(record), 0o600);
    return certificateArn;
  }

  async remove(certificateArn: string): Promise<void> {
    if (this.inUse.has(certificateArn)) throw new CertificateInUseError(certificateArn, 'a load balancer of this machine holds it');
    await rm(this.folderOf(certificateArn), { recursive: true, force: true });
  }

  private async keptInstallId(replaceArn: string | undefined, installId: string | undefined) {
    const kept = replaceArn ? (await readRecord(join(this.folderOf(replaceArn), CERTIFICATE_FILE)))?.installId : installId;
    return kept ? { installId: kept } : {};
  }

  async removeInstalledExcept(installId: string, keep: string | undefined): Promise<string[]> {
    const removed: string[] = [];
    for (const record of await this.records()) {
      if (record.installId !== installId || record.certificateArn === keep) continue;
      await this.remove(record.certificateArn);
      removed.push(record.certificateArn);
    }
    return removed;
  }

  private async records(): Promise<StoredRecord[]> {
    const entries = (await readdir(this.directory, { withFileTypes: true }).catch(() => [])).filter((entry) => entry.isDirectory());
    const records = await Promise.all(entries.map((entry) => readRecord(join(this.directory, entry.name, CERTIFICATE_FILE))));
    return records.filter((record): record is StoredRecord => record !== undefined);
  }

  /**
   * The certificate installed for a hostname, with its key: for the local router only.
   * A certificate naming the hostname itself wins over a wildcard one; among equals,
   * the one installed last.
   */
  async findForHostname(hostname: string): Promise<(StoredCertificate & { privateKeyPem: string }) | undefined> {
    const wanted = normaliseName(hostname);
    let best: { record: StoredRecord; exact: boolean } | undefined;
    for (const record of await this.records()) {
      const exact = record.names.includes(wanted);
      if (!exact && !record.names.some((name) => wildcardMatches(name, wanted))) continue;
      const better = !best || (exact && !best.exact) || (exact === best.exact && record.installedAt > best.record.installedAt);
      if (better) best = { record, exact };
    }
    if (!best) return undefined;
    const { certificateArn, hostname: installedFor, names, chainPem, privateKey } = best.record;
    return {
      certificateArn,
      hostname: installedFor,
      names,
      chainPem,
      privateKeyPem: open(await this.masterKey(), privateKey, certificateArn),
    };
  }

  private folderOf(certificateArn: string): string {
    const id = certificateArn.startsWith(ARN_PREFIX) ? certificateArn.slice(ARN_PREFIX.length) : '';
    if (!ARN_ID.test(id)) throw new Error(`${certificateArn} is not a certificate ARN of the local certificate store`);
    return join(this.directory, id);
  }

  /**
   * Read from its file, created on first use: written whole, then linked into place, so
   * of two concurrent first uses (the router's store and the handlers' store) exactly
   * one key wins and both go on with it. Not cached: the folder may be wiped between runs.
   */
  private async masterKey(): Promise<Buffer> {
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    const path = join(this.directory, MASTER_KEY_FILE);
    let key = await readFile(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (!key) {
      const draft = `${path}.${randomUUID()}.tmp`;
      await writeFile(draft, randomBytes(MASTER_KEY_BYTES), { mode: 0o600, flag: 'wx' });
      try {
        await link(draft, path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      } finally {
        await unlink(draft);
      }
      key = await readFile(path);
    }
    if (key.length !== MASTER_KEY_BYTES)
      throw new Error(`${path} is not a master key: it has ${key.length} bytes, not ${MASTER_KEY_BYTES}`);
    return key;
  }
}

function seal(masterKey: Buffer, plaintext: string, certificateArn: string): StoredRecord['privateKey'] {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(CIPHER, masterKey, iv);
  // The ARN is authenticated with the key: a key file copied into another certificate's folder does not open.
  cipher.setAAD(Buffer.from(certificateArn));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return {
    cipher: CIPHER,
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ciphertext: ciphertext.toString('base64'),
  };
}

function open(masterKey: Buffer, sealed: StoredRecord['privateKey'], certificateArn: string): string {
  try {
    const decipher = createDecipheriv(CIPHER, masterKey, Buffer.from(sealed.iv, 'base64'));
    decipher.setAAD(Buffer.from(certificateArn));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new Error(`the private key of ${certificateArn} does not decrypt: it was stored under another master key, or changed`);
  }
}

function normaliseName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

/** `*.example.com` matches exactly one whole label in its place: www.example.com, not example.com nor a.b.example.com. */
function wildcardMatches(pattern: string, hostname: string): boolean {
  if (!pattern.startsWith('*.')) return false;
  const suffix = pattern.slice(1);
  const label = hostname.slice(0, -suffix.length);
  return hostname.endsWith(suffix) && label.length > 0 && !label.includes('.');
}

async function writeAtomically(path: string, content: string, mode: number): Promise<void> {
  const temporary = `${path}.${randomUUID()}.tmp`;
  await writeFile(temporary, content, { mode });
  await rename(temporary, path);
}

async function readRecord(path: string): Promise<StoredRecord | undefined> {
  try {
    const record = JSON.parse(await readFile(path, 'utf8')) as StoredRecord;
    return Array.isArray(record.names) && record.privateKey?.cipher === CIPHER ? record : undefined;
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
