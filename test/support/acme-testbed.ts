// Real Pebble, the local DNS zone and a tiny HTTP-01 responder, for the ACME adapter's
// integration tests; optionally the fault proxy in between.
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { AcmeCertificateAuthority } from '../../functions/adapters/acme/acme-ca.ts';
import type { AuthorizationState } from '../../functions/adapters/acme/certificate-authority.ts';
import { listen, type LocalServer } from '../../infra/local/api-server.ts';
import { startDnsServer, type DnsServer } from '../../infra/local/dns-server.ts';
import { startPebble, type Pebble } from '../../infra/local/pebble.ts';
import { freePort } from '../../infra/local/ports.ts';

export interface AcmeTestbed {
  dataDir: string;
  dns: DnsServer;
  pebble: Pebble;
  /** Token -> key authorization, answered on the port Pebble validates on. */
  answers: Map<string, string>;
}

/** `setUp` runs inside the same hook, once the test bed is up (node 20 may run root hooks concurrently). */
export function useAcmeTestbed(setUp: (testbed: AcmeTestbed) => Promise<void> = async () => {}): () => AcmeTestbed {
  let testbed: AcmeTestbed | undefined;
  let responder: LocalServer | undefined;
  before(async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'acme-testbed-'));
    const dns = await startDnsServer();
    const answers = new Map<string, string>();
    const httpChallengePort = await freePort();
    responder = await listen(
      http.createServer((request, response) => {
        const answer = answers.get(request.url?.split('/').pop() ?? '');
        response.writeHead(answer ? 200 : 404).end(answer ?? 'not found');
      }),
      httpChallengePort,
      'http',
    );
    const pebble = await startPebble({ dataDir: join(dataDir, 'pebble'), dnsServer: dns.address, httpChallengePort });
    testbed = { dataDir, dns, pebble, answers };
    await setUp(testbed);
  });
  after(async () => {
    await Promise.all([testbed?.pebble.stop(), testbed?.dns.stop(), responder?.close()]);
    if (testbed) await rm(testbed.dataDir, { recursive: true, force: true });
  });
  return () => {
    if (!testbed) throw new Error('the ACME test bed did not start');
    return testbed;
  };
}

/** Polls an authorization until the CA has decided. */
export async function settledAuthorization(ca: AcmeCertificateAuthority, authorizationUrl: string): Promise<AuthorizationState> {
  let authorization = await ca.authorization(authorizationUrl);
  while (authorization.status === 'pending') {
    await new Promise((resolve) => setTimeout(resolve, 50));
    authorization = await ca.authorization(authorizationUrl);
  }
  return authorization;
}

/** An order for `hostname` whose HTTP-01 challenge was answered and validated. */
export async function validatedOrder(testbed: AcmeTestbed, ca: AcmeCertificateAuthority, hostname: string) {
  testbed.dns.zone.set(hostname, 'A', ['127.0.0.1']);
  const order = await ca.createOrder(hostname);
  testbed.answers.set(order.token, await ca.keyAuthorization(order.token));
  await ca.askToValidate(order.challengeUrl);
  return { order, authorization: await settledAuthorization(ca, order.authorizationUrl) };
}
