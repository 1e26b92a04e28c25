// Real PostgreSQL for the local cloud's databases, from Debian's `postgresql` package.
// One cluster per database, since a server serves one certificate (there is no SNI).
// A cluster serves a certificate from the platform's own CA from its first start, so
// sslmode=require works at once, and an enhanced (publicly trusted) certificate once
// one is installed: files swapped, then pg_reload_conf(), so open sessions stay up.
import { execFile, spawn } from 'node:child_process';
import { X509Certificate, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { constants } from 'node:fs';
import { access, chown, mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import * as x509 from '@peculiar/x509';
import pg from 'pg';
import type { SslConnection } from '../../functions/adapters/databases/database-servers.ts';
import { ensureDebianPackage } from './debian-package.ts';
import { freePort } from './ports.ts';
import { supervise } from './child-process.ts';

const execFileAsync = promisify(execFile);
const LOOPBACK = '127.0.0.1';
/** Debian puts each major version's server here: /usr/lib/postgresql/<version>/bin. */
const VERSIONS_DIR = '/usr/lib/postgresql';
/** The superuser the service administers the cluster as, over the unix socket only. */
const ADMIN_USER = 'postgres';
/** The user the Debian package creates; initdb and postgres refuse to run as root. */
const SERVER_USER = 'postgres';
/** Lower-case names, so they need no case folding and are safe to quote anywhere. */
const NAME = /^[a-z_][a-z0-9_-]{0,62}$/;
const READY_TIMEOUT_MS = 30_000;
const RELOAD_TIMEOUT_MS = 10_000;
const POLL_MS = 10;
const STOP_GRACE_MS = 10_000;
const LOG_TAIL_CHARS = 8_000;
const SERVER_CERTIFICATE_VALIDITY_MS = 365 * 24 * 60 * 60 * 1000;
const CA_VALIDITY_MS = 10 * SERVER_CERTIFICATE_VALIDITY_MS;
const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
/** Files of the cluster folder besides initdb's; ssl_* paths are relative to it. */
const FILES = {
  platformCertificate: 'platform.crt',
  platformKey: 'platform.key',
  installedCertificate: 'installed.crt',
  installedKey: 'installed.key',
  password: 'app-password',
  log: 'server.log',
};

/** The platform's own signing CA: not publicly trusted, but the platform's clients may trust it. */
export interface PlatformCa {
  certificatePem: string;
  /** The same, as a file, for `sslrootcert=`. */
  certificateFile: string;
  /** A new key and a certificate for `hostname` signed by this CA: the leaf alone, as clients trust the CA itself. */
  issueServerCertificate(hostname: string): Promise<{ certificatePem: string; privateKeyPem: string }>;
}

export interface PostgresClusterOptions {
  /** The cluster's folder: initdb makes it on the first start; later starts keep its data, password and served certificate. */
  dir: string;
  /** The name clients connect to, which the certificates are for, e.g. `orders.shop.db.localcloud.test`. */
  hostname: string;
  /** The application's database and the role that owns it. */
  database: string;
  user: string;
  /** 0 or absent: a free port. */
  port?: number;
  platformCa: PlatformCa;
}

export interface PostgresCluster {
  dir: string;
  hostname: string;
  host: typeof LOOPBACK;
  port: number;
  database: string;
  user: string;
  /** The application role's password, kept in the cluster folder (mode 0600) across restarts. */
  password: string;
  pid: number;
  /** Serves `chainPem` (leaf first) with `privateKeyPem`; resolves once new connections get it. */
  installCertificate(chainPem: string, privateKeyPem: string): Promise<void>;
  /** Serves the platform-signed certificate again and deletes the installed one. */
  servePlatformCertificate(): Promise<void>;
  /** The SSL connections open now, from the pg_stat_ssl / pg_stat_activity join. */
  sslConnections(): Promise<SslConnection[]>;
  stop(): Promise<void>;
}

interface ServerUser {
  uid: number;
  gid: number;
}

interface CaFiles {
  certificate: string;
  key: string;
}

interface SigningCa {
  certificate: x509.X509Certificate;
  privateKey: webcrypto.CryptoKey;
}

/** The bin folder of the newest PostgreSQL server installed; installs the Debian package when running as root. */
export function ensurePostgresInstalled(): Promise<string> {
  return ensureDebianPackage({ name: 'postgresql', description: 'PostgreSQL (the database server)', find: findNewestServer });
}

/** Makes a CA in `dir` the first time, and reuses it after. */
export async function createPlatformCa(dir: string, commonName = 'Local cloud platform CA'): Promise<PlatformCa> {
  const files: CaFiles = { certificate: path.join(dir, 'platform-ca.crt'), key: path.join(dir, 'platform-ca.key') };
  await mkdir(dir, { recursive: true });
  const ca = (await loadCa(files)) ?? (await makeCa(files, commonName));
  return {
    certificatePem: ca.certificate.toString('pem'),
    certificateFile: files.certificate,
    async issueServerCertificate(hostname) {
      const keys = await webcrypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
      const certificate = await x509.X509CertificateGenerator.create(
        {
          subject: new x509.Name([{ CN: [hostname] }]).toString(),
          issuer: ca.certificate.subject,
          publicKey: keys.publicKey,
          signingKey: ca.privateKey,
          notBefore: new Date(Date.now() - 60_000),
          notAfter: new Date(Date.now() + SERVER_CERTIFICATE_VALIDITY_MS),
          signingAlgorithm: ECDSA_P256,
          extensions: [
            new x509.BasicConstraintsExtension(false, undefined, true),
            new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
            new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
            new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: hostname }]),
            await x509.AuthorityKeyIdentifierExtension.create(ca.certificate.publicKey, false, webcrypto),
          ],
        },
        webcrypto,
      );
      return { certificatePem: certificate.toString('pem'), privateKeyPem: await privateKeyPem(keys.privateKey) };
    },
  };
}

export async function startPostgresCluster(options: PostgresClusterOptions): Promise<PostgresCluster> {
  const { hostname, database, user } = options;
  for (const name of [database, user]) {
    if (!NAME.test(name)) throw new Error(`${JSON.stringify(name)} is not a database or role name this accepts (${NAME})`);
  }
  if (user === ADMIN_USER) throw new Error(`the application role cannot be ${ADMIN_USER}, the cluster's superuser`);
  const bin = await ensurePostgresInstalled();
  const owner = await serverUser();
  const dir = path.resolve(options.dir);
  const port = options.port || (await freePort());
  const write = (file: string, content: string, mode: number) => writeAtomically(path.join(dir, file), content, mode, owner);

  await initCluster(bin, dir, owner);
  const password = await readOrCreatePassword(dir, owner);
  const platform = await options.platformCa.issueServerCertificate(hostname);
  await write(FILES.platformCertificate, platform.certificatePem, 0o644);
  await write(FILES.platformKey, platform.privateKeyPem, 0o600);
  await write('postgresql.conf', serverSettings(dir, port), 0o600);
  await write('pg_hba.conf', clientAuthentication(database, user), 0o600);

  const logFile = path.join(dir, FILES.log);
  const log = await open(logFile, 'a', 0o600);
  const logStart = (await log.stat()).size;
  if (owner) await log.chown(owner.uid, owner.gid);
  const child = spawn(path.join(bin, 'postgres'), ['-D', dir], {
    cwd: dir,
    env: serverEnvironment(),
    stdio: ['ignore', log.fd, log.fd],
    ...owner,
  });
  await log.close();
  // SIGINT is a fast shutdown (sessions end, then a checkpoint); SIGQUIT an immediate one that also ends the backends.
  const { exited, stop } = supervise(child, { stop: 'SIGINT', force: 'SIGQUIT', graceMs: STOP_GRACE_MS });
  const admin = <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => asAdmin(dir, port, work);

  try {
    await waitUntilReady(() => admin((client) => client.query('SELECT 1')), exited);
    await admin((client) => ensureApplicationRole(client, database, user, password));
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\nPostgreSQL's last output (${logFile}):\n${await readTail(logFile, logStart)}`);
  }
  if (child.pid === undefined) throw new Error('PostgreSQL started without a process id');

  /** Applies `statements` (ALTER SYSTEM) with a reload, resolving once the postmaster has reloaded. */
  const reload = async (statements: string[]): Promise<void> => {
    const loadedBefore = await admin(async (client) => {
      for (const statement of statements) await client.query(statement);
      const loaded = await configurationLoadTime(client);
      await client.query('SELECT pg_reload_conf()');
      return loaded;
    });
    // pg_reload_conf() only signals the postmaster. A backend forked after it reloaded
    // inherits its load time, and its new SSL context with it.
    const deadline = Date.now() + RELOAD_TIMEOUT_MS;
    while ((await admin(configurationLoadTime)) === loadedBefore) {
      if (Date.now() > deadline) throw new Error(`PostgreSQL did not reload its configuration within ${RELOAD_TIMEOUT_MS / 1000} s`);
      await sleep(POLL_MS);
    }
  };

  return {
    dir,
    hostname,
    host: LOOPBACK,
    port,
    database,
    user,
    password,
    pid: child.pid,
    async installCertificate(chainPem, privateKeyPem) {
      // A key that does not fit would only be logged at the reload, and the old certificate served on.
      if (!new X509Certificate(chainPem).checkPrivateKey(createPrivateKey(privateKeyPem))) {
        throw new Error("the private key is not the key of the chain's first certificate");
      }
      await write(FILES.installedKey, privateKeyPem, 0o600);
      await write(FILES.installedCertificate, chainPem, 0o644);
      await reload([
        `ALTER SYSTEM SET ssl_cert_file = ${pg.escapeLiteral(FILES.installedCertificate)}`,
        `ALTER SYSTEM SET ssl_key_file = ${pg.escapeLiteral(FILES.installedKey)}`,
      ]);
    },
    async servePlatformCertificate() {
      await reload(['ALTER SYSTEM RESET ssl_cert_file', 'ALTER SYSTEM RESET ssl_key_file']);
      await Promise.all([FILES.installedKey, FILES.installedCertificate].map((file) => rm(path.join(dir, file), { force: true })));
    },
    sslConnections: () => admin(sslConnections),
    stop,
  };
}

async function findNewestServer(): Promise<string | undefined> {
  const versions = await readdir(VERSIONS_DIR).catch(() => []);
  const newestFirst = versions.filter((version) => /^\d+(\.\d+)?$/.test(version)).sort((a, b) => Number(b) - Number(a));
  for (const version of newestFirst) {
    const bin = path.join(VERSIONS_DIR, version, 'bin');
    // The client package makes bin/ too, with psql but no server.
    if (await isExecutable(path.join(bin, 'initdb'))) return bin;
  }
  return undefined;
}

/** Whom initdb and postgres run as: the current user, or the package's `postgres` user when that is root. */
async function serverUser(): Promise<ServerUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const id = async (flag: '-u' | '-g') => Number((await execFileAsync('id', [flag, SERVER_USER])).stdout.trim());
  return { uid: await id('-u'), gid: await id('-g') };
}

/** C locale: the messages and sorting do not depend on locales this machine may lack. */
function serverEnvironment(): NodeJS.ProcessEnv {
  return { ...process.env, LC_ALL: 'C' };
}

async function initCluster(bin: string, dir: string, owner: ServerUser | undefined): Promise<void> {
  if (await exists(path.join(dir, 'PG_VERSION'))) return;
  // Parents keep the default mode: the server's user must be able to reach the folder.
  await mkdir(path.dirname(dir), { recursive: true });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (owner) await chown(dir, owner.uid, owner.gid);
  const args = ['-D', dir, '-U', ADMIN_USER, '-E', 'UTF8', '--locale=C', '--auth-local=trust', '--auth-host=reject'];
  try {
    await execFileAsync(path.join(bin, 'initdb'), args, { env: serverEnvironment(), ...owner });
  } catch (error) {
    const asWhom = owner ? ` as the ${SERVER_USER} user, who must be able to reach ${dir}` : '';
    throw new Error(`initdb failed${asWhom}: ${(error as { stderr?: string }).stderr ?? (error as Error).message}`);
  }
}

async function readOrCreatePassword(dir: string, owner: ServerUser | undefined): Promise<string> {
  const file = path.join(dir, FILES.password);
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const password = randomBytes(24).toString('base64url');
  await writeAtomically(file, `${password}\n`, 0o600, owner);
  return password;
}

/** The whole postgresql.conf, rewritten at each start; ALTER SYSTEM (postgresql.auto.conf) overrides the served certificate. */
function serverSettings(dir: string, port: number): string {
  return [
    '# Written by infra/local/postgres.ts at each start.',
    `listen_addresses = '${LOOPBACK}'`,
    `port = ${port}`,
    `unix_socket_directories = ${settingString(dir)}`,
    'ssl = on',
    `ssl_cert_file = ${settingString(FILES.platformCertificate)}`,
    `ssl_key_file = ${settingString(FILES.platformKey)}`,
    "ssl_min_protocol_version = 'TLSv1.2'",
    "password_encryption = 'scram-sha-256'",
    '',
  ].join('\n');
}

/** A quoted value for postgresql.conf, whose parser reads backslash escapes inside quotes (SQL literals do not). */
function settingString(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
}

function clientAuthentication(database: string, user: string): string {
  return [
    '# Written by infra/local/postgres.ts at each start.',
    // The socket is in the cluster folder, which only the server's user (and root) can open.
    `local all ${ADMIN_USER} trust`,
    `hostssl "${database}" "${user}" ${LOOPBACK}/32 scram-sha-256`,
    '',
  ].join('\n');
}

/** One connection per call, over the unix socket: nothing stays open to outlive the server. */
async function asAdmin<T>(socketDir: string, port: number, work: (client: pg.Client) => Promise<T>): Promise<T> {
  // ssl: false, whatever PGSSLMODE says: a unix socket has no TLS.
  const client = new pg.Client({ host: socketDir, port, user: ADMIN_USER, database: 'postgres', ssl: false });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function waitUntilReady(ping: () => Promise<unknown>, exited: Promise<string>): Promise<void> {
  let exit: string | undefined;
  void exited.then((description) => (exit = description));
  let lastAttempt = 'no answer yet';
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exit !== undefined) throw new Error(`PostgreSQL ${exit} before it was ready`);
    try {
      await ping();
      return;
    } catch (error) {
      lastAttempt = (error as Error).message;
    }
    await sleep(POLL_MS);
  }
  throw new Error(`PostgreSQL was not ready within ${READY_TIMEOUT_MS / 1000} s (last attempt: ${lastAttempt})`);
}

/** Creates the role and its database the first time; sets the password at each start, so the file and the role agree. */
async function ensureApplicationRole(client: pg.Client, database: string, user: string, password: string): Promise<void> {
  const role = client.escapeIdentifier(user);
  const roleExists = (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [user])).rowCount !== 0;
  await client.query(`${roleExists ? 'ALTER' : 'CREATE'} ROLE ${role} LOGIN PASSWORD ${client.escapeLiteral(password)}`);
  const databaseExists = (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount !== 0;
  if (!databaseExists) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)} OWNER ${role}`);
}

/** As text: a Date would drop the microseconds, and two reloads may fall in one millisecond. */
async function configurationLoadTime(client: pg.Client): Promise<string> {
  const { rows } = await client.query<{ loaded: string }>('SELECT pg_conf_load_time()::text AS loaded');
  return rows[0]!.loaded;
}

async function sslConnections(client: pg.Client): Promise<SslConnection[]> {
  // The admin's own connection is over the socket, without SSL, so the join leaves it out.
  const { rows } = await client.query<{ datname: string; usename: string; client_addr: string; version: string; cipher: string }>(
    'SELECT a.datname, a.usename, s.ssl, a.client_addr, s.version, s.cipher FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE s.ssl',
  );
  return rows.map((row) => ({
    datname: row.datname,
    usename: row.usename,
    clientAddr: row.client_addr,
    version: row.version,
    cipher: row.cipher,
  }));
}

async function loadCa(files: CaFiles): Promise<SigningCa | undefined> {
  let pems: [string, string];
  try {
    pems = [await readFile(files.certificate, 'utf8'), await readFile(files.key, 'utf8')];
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const [keyDer] = x509.PemConverter.decode(pems[1]);
  const privateKey = await webcrypto.subtle.importKey('pkcs8', keyDer!, ECDSA_P256, false, ['sign']);
  return { certificate: new x509.X509Certificate(pems[0]), privateKey };
}

async function makeCa(files: CaFiles, commonName: string): Promise<SigningCa> {
  const keys = await webcrypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: new x509.Name([{ CN: [commonName] }]).toString(),
      keys,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + CA_VALIDITY_MS),
      signingAlgorithm: ECDSA_P256,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );
  // The key first: a certificate without its key would be reused and sign nothing.
  await writeAtomically(files.key, await privateKeyPem(keys.privateKey), 0o600);
  await writeAtomically(files.certificate, certificate.toString('pem'), 0o644);
  return { certificate, privateKey: keys.privateKey };
}

async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

/** Written aside, then renamed: PostgreSQL never reads half a file, and a key is 0600 from its first byte. */
async function writeAtomically(file: string, content: string, mode: number, owner?: ServerUser): Promise<void> {
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, content, { mode, flag: 'wx' });
    if (owner) await chown(temporary, owner.uid, owner.gid);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

async function readTail(file: string, from: number): Promise<string> {
  const text = (await readFile(file)).subarray(from).toString('utf8');
  return text.slice(-LOG_TAIL_CHARS);
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
