// What listens on this machine, read from /proc: proves a server binds 127.0.0.1 only.
import { readFile } from 'node:fs/promises';

const TCP_LISTEN_STATE = '0A';

/** Listening TCP sockets from /proc, with the local address as the kernel writes it (hex). */
export async function listeningSockets(): Promise<{ address: string; port: number }[]> {
  const tables = await Promise.all(['/proc/net/tcp', '/proc/net/tcp6'].map((file) => readFile(file, 'utf8')));
  return tables
    .flatMap((table) => table.trim().split('\n').slice(1))
    .map((line) => line.trim().split(/\s+/))
    .filter(([, , , state]) => state === TCP_LISTEN_STATE)
    .map(([, local = '']) => {
      const [address = '', port = ''] = local.split(':');
      return { address, port: parseInt(port, 16) };
    });
}
