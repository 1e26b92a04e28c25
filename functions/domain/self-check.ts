// Our own look at the challenge before the CA looks (the HTTP-01 URL, or the DNS-01
// TXT record): a failed CA validation costs rate-limit budget, a failed self-check costs nothing.
import type { LookupFailure } from './dns-check.ts';
import { failure, type Failure } from './failure-reasons.ts';

export interface ChallengeResponse {
  status: number;
  body: string;
  location?: string;
}

export type SelfCheckVerdict = { passed: true } | ({ passed: false } & Failure);

export function challengePath(token: string): string {
  return `/.well-known/acme-challenge/${token}`;
}

export function judgeChallengeResponse(hostname: string, token: string, expected: string, response: ChallengeResponse): SelfCheckVerdict {
  const url = `http://${hostname}${challengePath(token)}`;
  if (response.status === 200 && response.body.trim() === expected) return { passed: true };
  if (response.status >= 300 && response.status < 400) {
    // The CA follows redirects, but only ones that keep the challenge path.
    if (response.location?.includes(challengePath(token))) return { passed: true };
    return refused(failure('REDIRECT_DROPS_PATH', `${url} redirects to ${response.location ?? 'nowhere'}, which drops the path.`));
  }
  if (response.status === 404) return refused(failure('CDN_NO_CHALLENGE', `${url} answers 404.`));
  return refused(
    failure(
      'DNS_INCORRECT',
      `${url} answered ${response.status} with something other than the challenge: ${hostname} does not reach this app yet.`,
    ),
  );
}

/** The name resolved a moment ago, in the DNS check, and no longer does. */
export function stoppedResolving(hostname: string): SelfCheckVerdict {
  return refused(failure('DNS_UNRESOLVABLE', `${hostname} stopped resolving before the challenge could be checked.`));
}

/** Nothing answered at the address DNS gives (refused, reset, timed out). */
export function challengeUnanswered(hostname: string, cause: string): SelfCheckVerdict {
  return refused(failure('DNS_INCORRECT', `${hostname} did not answer the challenge: ${cause}.`));
}

export type TxtLookup = { values: string[] } | { failure: LookupFailure };

/** DNS-01: the resolver the CA uses must already answer `record` with the value we published. */
export function judgeDnsChallenge(record: string, expected: string, lookup: TxtLookup): SelfCheckVerdict {
  if ('values' in lookup && lookup.values.includes(expected)) return { passed: true };
  const seen =
    'failure' in lookup
      ? `the lookup failed (${lookup.failure})`
      : lookup.values.length === 0
        ? 'it has no TXT record'
        : `it holds ${lookup.values.map((value) => `"${value}"`).join(', ')} instead`;
  const reason = 'failure' in lookup && lookup.failure === 'TIMEOUT' ? 'DNS_TIMEOUT' : 'DNS_CHALLENGE_NOT_VISIBLE';
  return refused(failure(reason, `The DNS-01 answer is not visible at ${record}: ${seen}.`));
}

function refused(verdict: Failure): SelfCheckVerdict {
  return { passed: false, ...verdict };
}
