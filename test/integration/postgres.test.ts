import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import type { DatabaseTarget } from '../../functions/adapters/databases/database-servers.ts';
import { KEPT_CERTIFICATE_FILE, LocalDatabaseServers } from '../../functions/adapters/databases/local-database-servers.ts';
import { createPlatformCa, startPostgresCluster, type PlatformCa, type PostgresCluster } from '../../infra/local/postgres.ts';
import { listeningSockets } from '../support/sockets.ts';

const LOOPBACK_V4_HEX = '0100007F';
const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

describe('PostgreSQL cluster', () => {
  const hostname = 'orders.shop.db.localcloud.test';
  let root: string;
  let platformCa: PlatformCa;
  let rotationCa: PlatformCa;
  let cluster: PostgresCluster;

  before(async () => {
    root = await temporaryFolder();
    platformCa = await createPlatformCa(path.join(root, 'platform-ca'));
    rotationCa = await createPlatformCa(path.join(root, 'rotation-ca'), 'Test rotation CA');
    cluster = await startPostgresCluster({ dir: path.join(root, 'cluster'), hostname, database: 'orders', user: 'shop', platformCa });
  });
  after(async () => {
    await cluster?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('accepts the application role over SSL (sslmode=require)', async () => {
    const result = await psql(cluster, 'sslmode=require', 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    assert.equal(result.stderr, '');
    assert.equal(result.stdout.trim(), 't');
  });

  it('refuses connections without SSL', async () => {
    const result = await psql(cluster, 'sslmode=disable', 'SELECT 1');
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /no pg_hba\.conf entry/);
  });

  it('serves a certificate for its hostname from the platform CA (sslmode=verify-full)', async () => {
    const trusted = await psql(cluster, `sslmode=verify-full sslrootcert=${platformCa.certificateFile}`, 'SELECT 1');
    assert.equal(trusted.stdout.trim(), '1', trusted.stderr);
    const untrusted = await psql(cluster, `sslmode=verify-full sslrootcert=${rotationCa.certificateFile}`, 'SELECT 1');
    assert.notEqual(untrusted.code, 0);
    assert.match(untrusted.stderr, /certificate verify failed/);
  });

  it('serves an installed certificate to new connections while open sessions stay up', async () => {
    const session = openPsqlSession(cluster, `sslmode=verify-full sslrootcert=${platformCa.certificateFile}`);
    try {
      assert.equal(await session.query('SELECT 1'), '1');
      const issued = await rotationCa.issueServerCertificate(hostname);
      await cluster.installCertificate(issued.certificatePem, issued.privateKeyPem);

      assert.equal(await session.query('SELECT 1'), '1');
      const trusted = await psql(cluster, `sslmode=verify-full sslrootcert=${rotationCa.certificateFile}`, 'SELECT 1');
      assert.equal(trusted.stdout.trim(), '1', trusted.stderr);
      const connections = await cluster.sslConnections();
      const open = connections.find((connection) => connection.usename === 'shop');
      assert.equal(open?.datname, 'orders');
      assert.equal(open?.clientAddr, '127.0.0.1');
      assert.equal(open?.version, 'TLSv1.3');
      assert.ok(open?.cipher);
    } finally {
      session.close();
    }
  });

  it('keeps the installed key private to the server', async () => {
    const key = await stat(path.join(cluster.dir, 'installed.key'));
    assert.equal(key.mode & 0o777, 0o600);
    assert.equal(key.uid, (await stat(cluster.dir)).uid);
  });

  it("refuses a key that is not the certificate's", async () => {
    const issued = await rotationCa.issueServerCertificate(hostname);
    const other = await rotationCa.issueServerCertificate(hostname);
    await assert.rejects(cluster.installCertificate(issued.certificatePem, other.privateKeyPem), /not the key of the chain/);
  });

  it('serves the platform certificate again', async () => {
    await cluster.servePlatformCertificate();
    const trusted = await psql(cluster, `sslmode=verify-full sslrootcert=${platformCa.certificateFile}`, 'SELECT 1');
    assert.equal(trusted.stdout.trim(), '1', trusted.stderr);
  });

  it('listens on 127.0.0.1 only', async () => {
    const listeners = (await listeningSockets()).filter((listener) => listener.port === cluster.port);
    assert.deepEqual(
      listeners.map((listener) => listener.address),
      [LOOPBACK_V4_HEX],
    );
  });

  it('keeps its data, password and served certificate across a restart', async () => {
    const created = await psql(cluster, 'sslmode=require', 'CREATE TABLE kept (id int); INSERT INTO kept VALUES (42)');
    assert.equal(created.code, 0, created.stderr);
    const issued = await rotationCa.issueServerCertificate(hostname);
    await cluster.installCertificate(issued.certificatePem, issued.privateKeyPem);
    await cluster.stop();
    assert.throws(() => process.kill(cluster.pid, 0), { code: 'ESRCH' });

    cluster = await startPostgresCluster({ dir: cluster.dir, hostname, database: 'orders', user: 'shop', platformCa });
    const read = await psql(cluster, `sslmode=verify-full sslrootcert=${rotationCa.certificateFile}`, 'SELECT id FROM kept');
    assert.equal(read.stdout.trim(), '42', read.stderr);
  });
});

describe('LocalDatabaseServers', () => {
  const target: DatabaseTarget = { app: 'shop', database: 'billing', hostname: 'billing.shop.db.localcloud.test' };
  const notAfter = new Date(Date.now() + 86_400_000).toISOString();
  let root: string;
  let platformCa: PlatformCa;
  let cluster: PostgresCluster;
  let servers: LocalDatabaseServers;
  let rootA: TestRoot;
  let rootB: TestRoot;
  let privateKeyPem: string;
  let chains: { root: string; chainPem: string }[];

  before(async () => {
    root = await temporaryFolder();
    platformCa = await createPlatformCa(path.join(root, 'platform-ca'));
    cluster = await startPostgresCluster({
      dir: path.join(root, 'cluster'),
      hostname: target.hostname,
      database: 'billing',
      user: 'shop',
      platformCa,
    });
    servers = new LocalDatabaseServers((asked) => (asked.app === target.app && asked.database === target.database ? cluster : undefined));
    // Two chains for one key, as a CA offers for a cross-signed root.
    rootA = await testRoot(root, 'Test Root A');
    rootB = await testRoot(root, 'Test Root B');
    const keys = await webcrypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
    privateKeyPem = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
    chains = [
      { root: rootA.name, chainPem: await rootA.issue(target.hostname, keys.publicKey) },
      { root: rootB.name, chainPem: await rootB.issue(target.hostname, keys.publicKey) },
    ];
  });
  after(async () => {
    await cluster?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('installs the chain to the served root, keeping the key private', async () => {
    const location = await servers.install(target, { privateKeyPem, chains, servedRoot: rootA.name, notAfter });
    assert.equal(location, 'local-postgres:shop/billing');
    assert.equal(await verifiesWith(cluster, rootA.file), true);
    assert.equal(await verifiesWith(cluster, rootB.file), false);
    assert.equal((await stat(path.join(cluster.dir, KEPT_CERTIFICATE_FILE))).mode & 0o777, 0o600);
  });

  it('serves the chain to another root with the same key', async () => {
    await servers.serve(target, 'local-postgres:shop/billing', rootB.name, notAfter);
    assert.equal(await verifiesWith(cluster, rootB.file), true);
    assert.equal(await verifiesWith(cluster, rootA.file), false);
  });

  it("refuses a root no chain leads to, and a location that is not the target's", async () => {
    await assert.rejects(
      servers.serve(target, 'local-postgres:shop/billing', 'Unknown Root', notAfter),
      /no offered chain leads to Unknown Root/,
    );
    await assert.rejects(servers.serve(target, 'local-postgres:shop/orders', rootA.name, notAfter), /is not where/);
  });

  it('lists the SSL connections open now', async () => {
    const session = openPsqlSession(cluster, 'sslmode=require');
    try {
      assert.equal(await session.query('SELECT 1'), '1');
      const connections = await servers.sslConnections(target);
      // Backends of the psql runs before may still be on their way out: look for the session.
      const open = connections.find((connection) => connection.usename === 'shop');
      assert.deepEqual(open && { datname: open.datname, clientAddr: open.clientAddr, version: open.version }, {
        datname: 'billing',
        clientAddr: '127.0.0.1',
        version: 'TLSv1.3',
      });
    } finally {
      session.close();
    }
  });

  it('reverts to the platform certificate and deletes the kept one', async () => {
    await servers.revert(target, 'local-postgres:shop/billing');
    assert.equal(await verifiesWith(cluster, platformCa.certificateFile), true);
    await assert.rejects(stat(path.join(cluster.dir, KEPT_CERTIFICATE_FILE)), { code: 'ENOENT' });
    await assert.rejects(servers.serve(target, 'local-postgres:shop/billing', rootA.name, notAfter), /no certificate is installed/);
  });

  it('knows only the databases the local cloud runs', async () => {
    await assert.rejects(servers.sslConnections({ ...target, database: 'missing' }), /runs no database missing/);
  });
});

/** When the tests run as root the server runs as the postgres user, who must pass through (not list) this folder. */
async function temporaryFolder(): Promise<string> {
  const folder = await mkdtemp(path.join(tmpdir(), 'postgres-test-'));
  await chmod(folder, 0o711);
  return folder;
}

function conninfo(cluster: PostgresCluster, ssl: string): string {
  return `host=${cluster.hostname} hostaddr=${cluster.host} port=${cluster.port} dbname=${cluster.database} user=${cluster.user} ${ssl}`;
}

function psqlEnvironment(cluster: PostgresCluster): NodeJS.ProcessEnv {
  return { ...process.env, PGPASSWORD: cluster.password, PGCONNECT_TIMEOUT: '5' };
}

function psql(cluster: PostgresCluster, ssl: string, sql: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = [conninfo(cluster, ssl), '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql];
  return new Promise((resolve) => {
    execFile('psql', args, { env: psqlEnvironment(cluster) }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? -1) : 0, stdout, stderr });
    });
  });
}

async function verifiesWith(cluster: PostgresCluster, caFile: string): Promise<boolean> {
  const result = await psql(cluster, `sslmode=verify-full sslrootcert=${caFile}`, 'SELECT 1');
  if (result.code !== 0 && !/certificate verify failed/.test(result.stderr)) throw new Error(result.stderr);
  return result.code === 0;
}

/** A psql session kept open on stdin, answering one query at a time. */
function openPsqlSession(cluster: PostgresCluster, ssl: string): { query(sql: string): Promise<string>; close(): void } {
  const child: ChildProcessWithoutNullStreams = spawn('psql', [conninfo(cluster, ssl), '-X', '-A', '-t', '-q'], {
    env: psqlEnvironment(cluster),
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return {
    query(sql) {
      return new Promise((resolve, reject) => {
        const onExit = () => reject(new Error(`psql exited: ${stderr}`));
        child.once('exit', onExit);
        child.stdout.once('data', (chunk: Buffer) => {
          child.off('exit', onExit);
          resolve(chunk.toString().trim());
        });
        child.stdin.write(`${sql};\n`);
      });
    },
    close() {
      child.stdin.end();
    },
  };
}

interface TestRoot {
  name: string;
  file: string;
  issue(hostname: string, publicKey: webcrypto.CryptoKey): Promise<string>;
}

/** A root that signs a given public key, which createPlatformCa does not (it makes a key per certificate). */
async function testRoot(folder: string, name: string): Promise<TestRoot> {
  const keys = await webcrypto.subtle.generateKey(ECDSA_P256, false, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: `CN=${name}`,
      keys,
      signingAlgorithm: ECDSA_P256,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );
  const file = path.join(folder, `${name.replaceAll(' ', '-')}.crt`);
  await writeFile(file, certificate.toString('pem'));
  return {
    name,
    file,
    async issue(hostname, publicKey) {
      const leaf = await x509.X509CertificateGenerator.create(
        {
          subject: `CN=${hostname}`,
          issuer: certificate.subject,
          publicKey,
          signingKey: keys.privateKey,
          signingAlgorithm: ECDSA_P256,
          extensions: [
            new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
            new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: hostname }]),
            await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
          ],
        },
        webcrypto,
      );
      return leaf.toString('pem');
    },
  };
}
