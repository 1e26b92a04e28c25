// Our own look at the challenge URL through the domain, the way the CA will look.
import { probeChallenge } from '../../adapters/challenges/challenge-probe.ts';
import { judgeChallengeResponse, type SelfCheckVerdict } from '../../domain/self-check.ts';
import type { Dependencies } from './dependencies.ts';

export async function selfCheck(deps: Dependencies, hostname: string, token: string): Promise<SelfCheckVerdict> {
  const expected = await (await deps.certificateAuthority()).keyAuthorization(token);
  const resolution = await deps.dns.resolve(hostname);
  // The CA tries IPv6 first; so do we.
  const address = 'failure' in resolution ? undefined : (resolution.ipv6[0] ?? resolution.ipv4[0]);
  if (!address)
    return { passed: false, reason: 'DNS_UNRESOLVABLE', message: `${hostname} stopped resolving before the challenge could be checked.` };
  try {
    return judgeChallengeResponse(hostname, token, expected, await probeChallenge(address, deps.config.httpChallengePort, hostname, token));
  } catch (error) {
    return { passed: false, reason: 'DNS_INCORRECT', message: `${hostname} did not answer the challenge: ${(error as Error).message}` };
  }
}
