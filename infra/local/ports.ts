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

export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}
