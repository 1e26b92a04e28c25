// ACME problem documents (RFC 8555 section 6.7) and what each means for a domain:
// the reason people read, and whether trying again can help.
import { isIPv6 } from 'node:net';
import { ipv6NotSupported } from './dns-check.ts';
import { failure, unexplained, type Failure } from './failure-reasons.ts';
import type { ChallengeType } from './events.ts';
import type { SelfCheckVerdict } from './self-check.ts';

export interface AcmeProblem {
  type: string;
  detail?: string;
  status?: number;
  subproblems?: AcmeProblem[];
}

export const ACME_ERROR_PREFIX = 'urn:ietf:params:acme:error:';

/** `rateLimited` rather than the full URN, for matching and for people. */
export function shortProblemType(problem: AcmeProblem): string {
  return problem.type.startsWith(ACME_ERROR_PREFIX) ? problem.type.slice(ACME_ERROR_PREFIX.length) : problem.type;
}

export interface ProblemContext {
  hostname: string;
  now: Date;
  /** When the CA said to come back (its Retry-After header), if it did. */
  retryAfter?: string;
  /** What our own look at the challenge saw, for validation failures. */
  selfCheck?: SelfCheckVerdict;
  /** How the name was being proved: a DNS-01 failure is about a TXT record, not a URL. */
  challengeType?: ChallengeType;
}

/** A failure as the CA's words decide it; a rate limit also says until when. */
export type ClassifiedProblem = Failure & { rateLimitedUntil?: string };

/** Without a Retry-After, a rate limit is waited out for this long before asking again. */
const DEFAULT_RATE_LIMIT_WAIT_MS = 60 * 60_000;

/** Types whose cause is on the CA's side or in transit: asking again can succeed. */
const RETRYABLE_TYPES = new Set([
  'badNonce',
  'serverInternal',
  'orderNotReady',
  'accountDoesNotExist',
  'connection',
  'dns',
  'incorrectResponse',
  'unauthorized',
  'tls',
  'rateLimited',
]);

export function classifyProblem(problem: AcmeProblem, context: ProblemContext): ClassifiedProblem {
  const type = shortProblemType(problem);
  const detail = problem.detail ?? 'no detail given';
  const { hostname } = context;
  // A compound problem is classified by its first subproblem about our name.
  if (type === 'compound' && problem.subproblems?.[0]) return classifyProblem(problem.subproblems[0], context);
  switch (type) {
    case 'rateLimited': {
      const until = context.retryAfter ?? new Date(context.now.getTime() + DEFAULT_RATE_LIMIT_WAIT_MS).toISOString();
      return {
        ...failure('RATE_LIMITED', `The certificate authority is rate limiting issuance for ${hostname} until ${until} (${detail}).`),
        rateLimitedUntil: until,
      };
    }
    case 'caa':
      return failure('CAA_FORBIDS', `A CAA record forbids our certificate authority to issue for ${hostname} (${detail}).`);
    case 'dns':
      return context.challengeType === 'dns-01'
        ? validationProblem(hostname, detail, context.selfCheck, 'dns-01')
        : dnsProblem(hostname, detail);
    case 'connection': {
      // The CA could not connect to an IPv6 address: whatever our own look saw over IPv4, that is the cause.
      const ipv6 = ipv6AddressIn(detail);
      return ipv6 ? ipv6NotSupported(hostname, [ipv6]) : validationProblem(hostname, detail, context.selfCheck);
    }
    case 'unauthorized':
    case 'incorrectResponse':
    case 'tls':
      return validationProblem(hostname, detail, context.selfCheck, context.challengeType);
    case 'rejectedIdentifier':
      return /unsafe|safe ?browsing|malware|phishing/i.test(detail)
        ? failure('DOMAIN_UNSAFE', `The certificate authority considers ${hostname} unsafe (${detail}).`)
        : failure('DOMAIN_BLOCKLISTED', `The certificate authority refuses to issue for ${hostname} by policy (${detail}).`);
    default:
      return unexplained(
        `The certificate authority answered ${type}: ${detail}`,
        RETRYABLE_TYPES.has(type) || (problem.status ?? 0) >= 500,
      );
  }
}

/** Anything that is not a problem document (a 5xx page, a reset connection) is the CA's trouble, retried. */
export function caUnreachable(detail: string): ClassifiedProblem {
  return unexplained(`The certificate authority could not be reached or failed (${detail}); we will try again.`);
}

function dnsProblem(hostname: string, detail: string): Failure {
  if (/NXDOMAIN/i.test(detail))
    return failure('NXDOMAIN', `The certificate authority found no DNS name ${hostname} (NXDOMAIN: ${detail}).`);
  if (/SERVFAIL|time(d)? ?out/i.test(detail)) {
    return failure('DNS_TIMEOUT', `The DNS provider for ${hostname} did not answer the certificate authority (${detail}).`);
  }
  return failure('DNS_UNRESOLVABLE', `The certificate authority could not resolve ${hostname} (${detail}).`);
}

/** The CA could not validate: what our own look at the answer sees now says why, when it sees something wrong. */
function validationProblem(
  hostname: string,
  detail: string,
  selfCheck: SelfCheckVerdict | undefined,
  challengeType?: ChallengeType,
): Failure {
  if (selfCheck && !selfCheck.passed) {
    const { passed: _passed, ...verdict } = selfCheck;
    return { ...verdict, message: `${selfCheck.message} (The certificate authority said: ${detail})` };
  }
  if (challengeType === 'dns-01') {
    return failure(
      'DNS_CHALLENGE_NOT_VISIBLE',
      `The certificate authority did not find the DNS-01 answer for ${hostname}, although our resolver sees it (${detail}).`,
      "We will try again; if it lasts, some of the zone's servers answer differently from the others.",
    );
  }
  return failure(
    'DNS_INCORRECT',
    `The certificate authority could not fetch the challenge from ${hostname}: ${detail}.`,
    `Check that ${hostname} reaches this app from the internet.`,
  );
}

/** The IPv6 address a CA's detail names: Let's Encrypt writes `2001:db8::1: Fetching ...`, Go `dial tcp [2001:db8::1]:80`. */
function ipv6AddressIn(detail: string): string | undefined {
  return detail
    .split(/[\s[\](),"]+/)
    .map((token) => token.replace(/:$/, ''))
    .find((token) => isIPv6(token));
}
