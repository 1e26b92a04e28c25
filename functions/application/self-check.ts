// Our own look at the challenge, the way the CA will look: the URL through the domain
// (HTTP-01), or the TXT record through the public resolver (DNS-01).
import { dnsChallengeName } from '../adapters/dns/dns-challenge-zone.ts';
import type { Order } from '../domain/events.ts';
import {
  challengeUnanswered,
  judgeChallengeResponse,
  judgeDnsChallenge,
  stoppedResolving,
  type SelfCheckVerdict,
} from '../domain/self-check.ts';
import type { Ports } from './ports.ts';

export type SelfCheckPorts = Pick<Ports, 'ca' | 'dns' | 'challengeProbe'>;

export async function selfCheck(ports: SelfCheckPorts, hostname: string, { token, challengeType }: Order): Promise<SelfCheckVerdict> {
  if (challengeType === 'dns-01') {
    const record = dnsChallengeName(hostname);
    return judgeDnsChallenge(record, await ports.ca.keyAuthorization(token, 'dns-01'), await ports.dns.txt(record));
  }
  const expected = await ports.ca.keyAuthorization(token);
  const resolution = await ports.dns.resolve(hostname);
  // The CA tries IPv6 first; so do we.
  const address = 'failure' in resolution ? undefined : (resolution.ipv6[0] ?? resolution.ipv4[0]);
  if (!address) return stoppedResolving(hostname);
  try {
    return judgeChallengeResponse(hostname, token, expected, await ports.challengeProbe.fetch(address, hostname, token));
  } catch (error) {
    return challengeUnanswered(hostname, (error as Error).message);
  }
}
