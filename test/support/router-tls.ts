// The certificate the local router serves for a name (TLS with SNI), as a client sees it.
import tls from 'node:tls';

/** Verified against `ca` when it is given; without it, only which certificate is served is asked. */
export function servedByRouter(port: number, hostname: string, ca?: string | string[]): Promise<tls.DetailedPeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: '127.0.0.1', port, servername: hostname, ...(ca ? { ca, rejectUnauthorized: true } : { rejectUnauthorized: false }) },
      () => {
        resolve(socket.getPeerCertificate(true));
        socket.end();
      },
    );
    socket.once('error', reject);
  });
}
