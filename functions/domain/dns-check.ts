// Does the domain point at the app? Pure: the answers come in, a verdict goes out.
import type { DnsAnswer } from './events.ts';
import { failure, type Failure } from './failure-reasons.ts';

/** How a lookup ended when it gave no records. */
export type LookupFailure = 'NXDOMAIN' | 'NODATA' | 'SERVFAIL' | 'TIMEOUT';

/** What a resolver said about one name: the CNAME chain it followed and the final addresses. */
export type Resolution = { name: string; cnameChain: string[]; ipv4: string[]; ipv6: string[] } | { name: string; failure: LookupFailure };

export type DnsVerdict = { verified: true; answers: DnsAnswer[] } | ({ verified: false; answers: DnsAnswer[] } & Failure);

export function answersOf(resolution: Resolution): DnsAnswer[] {
  if ('failure' in resolution) return [];
  const answers: DnsAnswer[] = [];
  let owner = resolution.name;
  for (const target of resolution.cnameChain) {
    answers.push({ name: owner, type: 'CNAME', data: target });
    owner = target;
  }
  for (const address of resolution.ipv4) answers.push({ name: owner, type: 'A', data: address });
  for (const address of resolution.ipv6) answers.push({ name: owner, type: 'AAAA', data: address });
  return answers;
}

export interface PointingRules {
  hostname: string;
  dnsTarget: string;
  /** Targets apps used to point at before: a chain ending there needs updating, not debugging. */
  legacyTargetSuffixes: string[];
}

/**
 * The domain is verified when its CNAME chain reaches the app's DNS target, or when
 * its addresses are the target's (an apex flattened by ALIAS/ANAME), and it has no
 * IPv6 address the target does not serve: the CA tries IPv6 first.
 */
export function checkPointing(rules: PointingRules, host: Resolution, target: Resolution): DnsVerdict {
  const { hostname, dnsTarget } = rules;
  const answers = distinct([...answersOf(host), ...answersOf(target)]);
  const refused = (verdict: Failure): DnsVerdict => ({ verified: false, answers, ...verdict });
  if ('failure' in host) return refused(lookupFailure(hostname, host.failure));
  const targetAddresses: { ipv4: string[]; ipv6: string[] } = 'failure' in target ? { ipv4: [], ipv6: [] } : target;
  // A CNAME must lead to the target itself (edges share addresses, so the same IPs prove
  // nothing); only a name without one, an apex flattened by ALIAS/ANAME, is judged by address.
  const pointsAtTarget =
    host.cnameChain.length > 0
      ? host.cnameChain.includes(dnsTarget)
      : host.ipv4.length > 0 && host.ipv4.every((address) => targetAddresses.ipv4.includes(address));
  if (pointsAtTarget) {
    const strayIpv6 = host.ipv6.filter((address) => !targetAddresses.ipv6.includes(address));
    return strayIpv6.length === 0 ? { verified: true, answers } : refused(ipv6NotSupported(hostname, strayIpv6));
  }
  const finalName = host.cnameChain.at(-1);
  const legacy = finalName && rules.legacyTargetSuffixes.find((suffix) => finalName === suffix || finalName.endsWith(`.${suffix}`));
  if (legacy) {
    return refused(
      failure('CNAME_TARGET_INCORRECT', `${hostname} points at ${finalName}, a legacy target.`, `Change its CNAME record to ${dnsTarget}.`),
    );
  }
  if (host.ipv4.length === 0 && host.cnameChain.length === 0) return refused(lookupFailure(hostname, 'NODATA'));
  return refused(
    failure(
      'DNS_INCORRECT',
      `${hostname} points at ${finalName ?? host.ipv4.join(', ')}, not at ${dnsTarget}.`,
      `Set a CNAME record for ${hostname} to ${dnsTarget}.`,
    ),
  );
}

/** AAAA records the app does not serve: the CA would try them first and fail (ours and the CA's words alike). */
export function ipv6NotSupported(hostname: string, addresses: string[]): Failure {
  return failure(
    'DNS_INCORRECT',
    `${hostname} has AAAA records (${addresses.join(', ')}) that do not belong to the app.`,
    `IPv6 (AAAA) records are not supported and must be removed: remove the AAAA records of ${hostname} at your DNS provider.`,
  );
}

function lookupFailure(hostname: string, lookup: LookupFailure): Failure {
  switch (lookup) {
    case 'NXDOMAIN':
      return failure('NXDOMAIN', `${hostname} does not exist in DNS (NXDOMAIN).`);
    case 'NODATA':
      return failure('DNS_UNRESOLVABLE', `${hostname} has no CNAME or A record yet.`);
    case 'SERVFAIL':
    case 'TIMEOUT':
      return failure('DNS_TIMEOUT', `The DNS provider for ${hostname} did not answer (${lookup}).`);
  }
}

function distinct(answers: DnsAnswer[]): DnsAnswer[] {
  const seen = new Set<string>();
  return answers.filter((answer) => {
    const key = `${answer.name} ${answer.type} ${answer.data}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
