// Real PostgreSQL clients for the tests: the `psql` binary, one-shot or kept open, and
// a TLS look at the certificate a server sends (Postgres' SSLRequest, then a handshake).
import { spawn } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import type { PostgresCluster } from '../../infra/local/postgres.ts';

export interface Connection {
  host: string;
  hostaddr: string;
  port: number;
  dbname: string;
  user: string;
  password: string;
  sslmode: 'require' | 'verify-full';
  sslrootcert?: string;
}

/** A verify-full connection to a local cluster as its application role, trusting `sslrootcert`. */
export function clusterConnection(cluster: PostgresCluster, sslrootcert: string, overrides: Partial<Connection> = {}): Connection {
  return {
    host: cluster.hostname,
    hostaddr: cluster.host,
    port: cluster.port,
    dbname: cluster.database,
    user: cluster.user,
    password: cluster.password,
    sslmode: 'verify-full',
    sslrootcert,
    ...overrides,
  };
}

export function connectionString({ password: _password, ...connection }: Connection): string {
  return Object.entries(connection)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
}

/** Runs one query with psql; resolves with what it printed and how it exited. */
export function psql(connection: Connection, sql: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return psqlAt(connectionString(connection), connection.password, sql);
}

/** The same, given a connection string or a `postgresql://` URL. */
export function psqlAt(conninfo: string, password: string, sql: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('psql', ['-XAtq', '-c', sql, conninfo], {
      env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: '5' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout: stdout.trim(), stderr }));
  });
}

/** A psql session that stays connected: each query's output ends at a marker line. */
export async function openSession(connection: Connection) {
  const child = spawn('psql', ['-XAtq', connectionString(connection)], {
    env: { ...process.env, PGPASSWORD: connection.password },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let buffer = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (buffer += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const query = async (sql: string, timeoutMs = 5000): Promise<string> => {
    const marker = `-- done ${Math.random()}`;
    child.stdin.write(`${sql};\n\\echo '${marker}'\n`);
    const deadline = Date.now() + timeoutMs;
    while (!buffer.includes(marker)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the session did not answer ${sql}: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const [answer = '', rest = ''] = buffer.split(`${marker}\n`);
    buffer = rest;
    return answer.trim();
  };
  await query('SELECT 1');
  return {
    query,
    close: async () => {
      child.stdin.end();
      if (child.exitCode === null) await new Promise((resolve) => child.once('close', resolve));
    },
  };
}

/** The serial number of the certificate the server sends to a client asking for `servername`. */
export function servedSerial(port: number, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      // SSLRequest: length 8, code 80877103; the server answers 'S' and the handshake follows.
      const request = Buffer.alloc(8);
      request.writeInt32BE(8, 0);
      request.writeInt32BE(80877103, 4);
      socket.write(request);
    });
    socket.once('error', reject);
    socket.once('data', (answer) => {
      if (answer.toString() !== 'S') return reject(new Error(`the server refused SSL: ${answer.toString()}`));
      const secure = tls.connect({ socket, servername, rejectUnauthorized: false }, () => {
        resolve(secure.getPeerCertificate().serialNumber);
        secure.destroy();
      });
      secure.once('error', reject);
    });
  });
}
