// Runs Let's Encrypt's test CA, Pebble, for the local cloud and the tests.
import { spawn } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { constants } from 'node:fs';
import { access, chmod, mkdir, writeFile } from 'node:fs/promises';
import { get as httpsGet } from 'node:https';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as x509 from '@peculiar/x509';
import { ensureDebianPackage } from './debian-package.ts';
import { freePorts } from './ports.ts';
import { supervise } from './child-process.ts';

export interface PebbleOptions {
  /** Where the config and Pebble's own TLS certificate and key are written; created if missing. */
  dataDir: string;
  /** "127.0.0.1:PORT" of the local DNS, which Pebble's validation authority asks. */
  dnsServer: string;
  /** Port Pebble's validation authority fetches HTTP-01 challenges from. */
  httpChallengePort: number;
  /** Port for TLS-ALPN-01; without it those validations fail to connect. */
  tlsChallengePort?: number;
  /** ACME port; default a free port picked by the OS. */
  port?: number;
  /** Management API port; default a free port picked by the OS. */
  managementPort?: number;
  /** Lifetime of issued certificates, in seconds (Pebble's default is 5 years). */
  certificateValidityPeriod?: number;
}

export interface Pebble {
  /** https://127.0.0.1:PORT/dir */
  directoryUrl: string;
  /** https://127.0.0.1:MPORT */
  managementUrl: string;
  /** The CA that signed Pebble's own HTTPS certificate: trust it to talk to Pebble. */
  tlsCaPem: string;
  /** The same CA, as a file. */
  tlsCaFile: string;
  /** The certificate and key Pebble serves HTTPS with: a proxy in front can serve the same, under the same CA. */
  serverTls: { certificatePem: string; privateKeyPem: string };
  pid: number;
  /** Pebble's issuing root, which it generates afresh at every start. */
  rootCertificatePem(): Promise<string>;
  /** Every root Pebble signs chains to: the default one first, then the alternate ones. */
  rootCertificatesPem(): Promise<string[]>;
  stop(): Promise<void>;
}

/** How many roots besides the default one Pebble signs chains to. */
const ALTERNATE_ROOTS = 1;
const LOOPBACK = '127.0.0.1';
const READY_TIMEOUT_MS = 20_000;
const READY_POLL_MS = 25;
const STOP_GRACE_MS = 5_000;
const OUTPUT_TAIL_CHARS = 8_000;
const TLS_VALIDITY_MS = 365 * 24 * 60 * 60 * 1000;
const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

/** Path of the pebble binary; installs the Debian package when running as root. */
export function ensurePebbleInstalled(): Promise<string> {
  return ensureDebianPackage({ name: 'pebble', description: "Pebble (Let's Encrypt's test CA)", find: findPebble });
}

/** Ports picked free can be taken before Pebble binds them (an outgoing connection's ephemeral port): it then starts on others. */
const PORT_PICKS = 3;

export async function startPebble(options: PebbleOptions): Promise<Pebble> {
  for (let pick = 1; ; pick++) {
    try {
      return await startPebbleOnce(options);
    } catch (error) {
      const picked = options.port === undefined && options.managementPort === undefined;
      if (!picked || pick >= PORT_PICKS || !/address already in use/.test((error as Error).message)) throw error;
    }
  }
}

async function startPebbleOnce(options: PebbleOptions): Promise<Pebble> {
  const binary = await ensurePebbleInstalled();
  const [pickedPort, pickedManagementPort] = await freePorts(2);
  const port = options.port ?? pickedPort!;
  const managementPort = options.managementPort ?? pickedManagementPort!;
  const tls = await createTlsCertificates();
  const files = {
    config: path.join(options.dataDir, 'pebble-config.json'),
    tlsCa: path.join(options.dataDir, 'tls-ca.pem'),
    certificate: path.join(options.dataDir, 'tls-cert.pem'),
    privateKey: path.join(options.dataDir, 'tls-key.pem'),
  };
  await mkdir(options.dataDir, { recursive: true });
  await writeFile(files.tlsCa, tls.caPem);
  await writeFile(files.certificate, tls.certificatePem);
  await writeFile(files.privateKey, tls.privateKeyPem, { mode: 0o600 });
  // The mode above only applies when the file is created, not on a restart.
  await chmod(files.privateKey, 0o600);
  await writeFile(
    files.config,
    JSON.stringify(
      {
        pebble: {
          listenAddress: `${LOOPBACK}:${port}`,
          managementListenAddress: `${LOOPBACK}:${managementPort}`,
          certificate: files.certificate,
          privateKey: files.privateKey,
          httpPort: options.httpChallengePort,
          tlsPort: options.tlsChallengePort ?? 0,
          ocspResponderURL: '',
          externalAccountBindingRequired: false,
          ...(options.certificateValidityPeriod === undefined ? {} : { certificateValidityPeriod: options.certificateValidityPeriod }),
        },
      },
      null,
      2,
    ),
  );

  const output = new OutputTail();
  const child = spawn(binary, ['-config', files.config, '-dnsserver', options.dnsServer], {
    cwd: options.dataDir,
    env: {
      ...process.env,
      PEBBLE_VA_NOSLEEP: '1',
      PEBBLE_WFE_NONCEREJECT: '0',
      PEBBLE_AUTHZREUSE: '0',
      // Chains to more than one root (ACME Link: rel="alternate"), as a CA in rotation offers: databases rotate between them.
      PEBBLE_ALTERNATE_ROOTS: String(ALTERNATE_ROOTS),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => output.append(chunk));
  child.stderr.on('data', (chunk: Buffer) => output.append(chunk));
  // A Pebble left behind would hold its ports and keep serving a stale CA.
  const { exited, stop } = supervise(child, { stop: 'SIGTERM', force: 'SIGKILL', graceMs: STOP_GRACE_MS });

  const directoryUrl = `https://${LOOPBACK}:${port}/dir`;
  const managementUrl = `https://${LOOPBACK}:${managementPort}`;
  try {
    // The management API listens separately, so wait for it too.
    await waitUntilServing([directoryUrl, `${managementUrl}/roots/0`], tls.caPem, exited);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\nPebble's last output:\n${output}`);
  }
  if (child.pid === undefined) throw new Error('Pebble started without a process id');

  const rootPem = async (index: number) => {
    const response = await fetchOverTls(`${managementUrl}/roots/${index}`, tls.caPem);
    if (response.status !== 200) throw new Error(`Pebble's /roots/${index} answered ${response.status}: ${response.body}`);
    return response.body;
  };
  return {
    directoryUrl,
    managementUrl,
    tlsCaPem: tls.caPem,
    tlsCaFile: files.tlsCa,
    serverTls: { certificatePem: tls.certificatePem, privateKeyPem: tls.privateKeyPem },
    pid: child.pid,
    rootCertificatePem: () => rootPem(0),
    rootCertificatesPem: () => Promise.all(Array.from({ length: ALTERNATE_ROOTS + 1 }, (_, index) => rootPem(index))),
    stop,
  };
}

async function waitUntilServing(urls: string[], caPem: string, exited: Promise<string>): Promise<void> {
  let exit: string | undefined;
  void exited.then((description) => (exit = description));
  let lastAttempt = 'no answer yet';
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exit !== undefined) throw new Error(`Pebble ${exit} before it was ready`);
    try {
      const responses = await Promise.all(urls.map((url) => fetchOverTls(url, caPem)));
      const failed = responses.findIndex((response) => response.status !== 200);
      if (failed === -1) return;
      lastAttempt = `${urls[failed]} answered ${responses[failed]?.status}`;
    } catch (error) {
      lastAttempt = (error as Error).message;
    }
    await sleep(READY_POLL_MS);
  }
  throw new Error(`Pebble was not ready within ${READY_TIMEOUT_MS / 1000} s (last attempt: ${lastAttempt})`);
}

function fetchOverTls(url: string, caPem: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // No agent: a pooled keep-alive socket would outlive Pebble.
    const request = httpsGet(url, { ca: caPem, agent: false, timeout: 2_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`timed out fetching ${url}`)));
    request.on('error', reject);
  });
}

async function findPebble(): Promise<string | undefined> {
  const pathDirectories = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  const candidates = [...pathDirectories.map((directory) => path.join(directory, 'pebble')), '/usr/bin/pebble'];
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory: try the next.
    }
  }
  return undefined;
}

/** A throwaway CA and a certificate for 127.0.0.1 and localhost, since Pebble ships none. */
export async function createTlsCertificates(): Promise<{ caPem: string; certificatePem: string; privateKeyPem: string }> {
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + TLS_VALIDITY_MS);
  const caKeys = await webcrypto.subtle.generateKey(ECDSA_P256, false, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: 'CN=Local cloud Pebble TLS CA',
      keys: caKeys,
      notBefore,
      notAfter,
      signingAlgorithm: ECDSA_P256,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );
  const keys = await webcrypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.create(
    {
      subject: 'CN=localhost',
      issuer: ca.subject,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      notBefore,
      notAfter,
      signingAlgorithm: ECDSA_P256,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([
          { type: 'ip', value: LOOPBACK },
          { type: 'dns', value: 'localhost' },
        ]),
        await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );
  const privateKey = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return {
    caPem: ca.toString('pem'),
    certificatePem: certificate.toString('pem'),
    privateKeyPem: x509.PemConverter.encode(privateKey, 'PRIVATE KEY'),
  };
}

/** The last few thousand characters a process wrote, shown only when it fails. */
class OutputTail {
  #text = '';

  append(chunk: Buffer): void {
    this.#text = (this.#text + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  }

  toString(): string {
    return this.#text;
  }
}
