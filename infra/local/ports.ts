import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';

/**
 * Ports on 127.0.0.1 that were free a moment ago, for servers whose port must be
 * known before they start. Held open together, so the `count` ports differ.
 */
export async function freePorts(count: number): Promise<number[]> {
  const probes = Array.from({ length: count }, () => net.createServer());
  try {
    return await Promise.all(
      probes.map(
        (probe) =>
          new Promise<number>((resolve, reject) => {
            probe.once('error', reject);
            probe.listen(0, '127.0.0.1', () => resolve((probe.address() as net.AddressInfo).port));
          }),
      ),
    );
  } finally {
    await Promise.all(probes.map((probe) => new Promise((resolve) => probe.close(resolve))));
  }
}

/** The port written in `file` when it is free again, else a free one, written there for the next start. */
export async function keptPort(file: string): Promise<number> {
  const kept = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  if (Number.isInteger(kept) && kept > 0 && (await isFree(kept))) return kept;
  const port = await freePort();
  await writeFile(file, String(port));
  return port;
}

function isFree(port: number): Promise<boolean> {
  const probe = net.createServer();
  return new Promise((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/**
 * A free port held by a listening socket until `release`, for a server that starts later but
 * whose port others must know now: while held, no other socket (an outgoing connection's
 * ephemeral port, another test's server) can take it; release it just before listening.
 */
export async function reservePort(): Promise<{ port: number; release(): Promise<void> }> {
  const holder = net.createServer();
  const port = await new Promise<number>((resolve, reject) => {
    holder.once('error', reject);
    holder.listen(0, '127.0.0.1', () => resolve((holder.address() as net.AddressInfo).port));
  });
  return { port, release: () => new Promise((resolve) => holder.close(() => resolve())) };
}

export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}
