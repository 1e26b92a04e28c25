// Does the domain point at the app? Pure: the answers come in, a verdict goes out.
import type { DnsAnswer } from './events.ts';
import type { FailureReason } from './failure-reasons.ts';

/** How a lookup ended when it gave no records. */
export type LookupFailure = 'NXDOMAIN' | 'NODATA' | 'SERVFAIL' | 'TIMEOUT';

/** What a resolver said about one name: the CNAME chain it followed and the final addresses. */
export type Resolution = { name: string; cnameChain: string[]; ipv4: string[]; ipv6: string[] } | { name: string; failure: LookupFailure };

export type DnsVerdict =
  | { verified: true; answers: DnsAnswer[] }
  | { verified: false; reason: FailureReason; message: string; retryable: boolean; answers: DnsAnswer[] };

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
 * IPv6 address the target lacks: the CA prefers IPv6, so a stray AAAA fails validation.
 */
export function checkPointing(rules: PointingRules, host: Resolution, target: Resolution): DnsVerdict {
  const { hostname, dnsTarget } = rules;
  const answers = distinct([...answersOf(host), ...answersOf(target)]);
  if ('failure' in host) return { ...lookupFailure(hostname, host.failure), answers };
  const targetAddresses: { ipv4: string[]; ipv6: string[] } = 'failure' in target ? { ipv4: [], ipv6: [] } : target;
  const incorrect = (message: string): DnsVerdict => ({ verified: false, reason: 'DNS_INCORRECT', message, retryable: true, answers });
  // A CNAME must lead to the target itself (edges share addresses, so the same IPs prove
  // nothing); only a name without one, an apex flattened by ALIAS/ANAME, is judged by address.
  const pointsAtTarget =
    host.cnameChain.length > 0
      ? host.cnameChain.includes(dnsTarget)
      : host.ipv4.length > 0 && host.ipv4.every((address) => targetAddresses.ipv4.includes(address));
  if (pointsAtTarget) {
    const strayIpv6 = host.ipv6.filter((address) => !targetAddresses.ipv6.includes(address));
    if (strayIpv6.length === 0) return { verified: true, answers };
    return incorrect(
      `${hostname} has AAAA records (${strayIpv6.join(', ')}) that do not belong to the app. Remove them: the CA tries IPv6 first.`,
    );
  }
  const finalName = host.cnameChain.at(-1);
  const legacy = finalName && rules.legacyTargetSuffixes.find((suffix) => finalName === suffix || finalName.endsWith(`.${suffix}`));
  if (legacy) {
    return {
      verified: false,
      reason: 'CNAME_TARGET_INCORRECT',
      message: `${hostname} points at ${finalName}, a legacy target. Change its CNAME record to ${dnsTarget}.`,
      retryable: true,
      answers,
    };
  }
  if (host.ipv4.length === 0 && host.cnameChain.length === 0) {
    return { ...lookupFailure(hostname, 'NODATA'), answers };
  }
  return incorrect(
    `${hostname} points at ${finalName ?? host.ipv4.join(', ')}, not at ${dnsTarget}. Set a CNAME record for ${hostname} to ${dnsTarget}.`,
  );
}

function lookupFailure(hostname: string, failure: LookupFailure): Omit<Extract<DnsVerdict, { verified: false }>, 'answers'> {
  switch (failure) {
    case 'NXDOMAIN':
      return {
        verified: false,
        reason: 'NXDOMAIN',
        message: `${hostname} does not exist in DNS (NXDOMAIN). Check the name, or create its record at your DNS provider.`,
        retryable: true,
      };
    case 'NODATA':
      return {
        verified: false,
        reason: 'DNS_UNRESOLVABLE',
        message: `${hostname} has no CNAME or A record yet. Add a CNAME record pointing at the app's DNS target.`,
        retryable: true,
      };
    case 'SERVFAIL':
    case 'TIMEOUT':
      return {
        verified: false,
        reason: 'DNS_TIMEOUT',
        message: `The DNS provider for ${hostname} did not answer (${failure}). We will keep trying.`,
        retryable: true,
      };
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
