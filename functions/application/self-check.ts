// Our own look at the challenge URL through the domain, the way the CA will look.
import { challengeUnanswered, judgeChallengeResponse, stoppedResolving, type SelfCheckVerdict } from '../domain/self-check.ts';
import type { Ports } from './ports.ts';

export type SelfCheckPorts = Pick<Ports, 'ca' | 'dns' | 'challengeProbe'>;

export async function selfCheck(ports: SelfCheckPorts, hostname: string, token: string): Promise<SelfCheckVerdict> {
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
