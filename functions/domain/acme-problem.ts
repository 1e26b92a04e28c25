// ACME problem documents (RFC 8555 section 6.7) and what each means for a domain:
// the reason people read, and whether trying again can help.
import type { FailureReason } from './failure-reasons.ts';
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
  /** What our own look at the challenge URL saw, for validation failures. */
  selfCheck?: SelfCheckVerdict;
}

export interface ClassifiedProblem {
  reason?: FailureReason;
  retryable: boolean;
  message: string;
  rateLimitedUntil?: string;
}

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
        reason: 'RATE_LIMITED',
        retryable: true,
        rateLimitedUntil: until,
        message: `The certificate authority is rate limiting issuance for ${hostname} until ${until}; we will try again then. (${detail})`,
      };
    }
    case 'caa':
      return {
        reason: 'CAA_FORBIDS',
        retryable: false,
        message: `A CAA record forbids our certificate authority to issue for ${hostname}. Add a CAA "issue" record for it, then refresh. (${detail})`,
      };
    case 'dns':
      return { ...dnsProblem(hostname, detail), retryable: true };
    case 'connection':
    case 'unauthorized':
    case 'incorrectResponse':
    case 'tls':
      return { ...validationProblem(hostname, detail, context.selfCheck), retryable: true };
    case 'rejectedIdentifier':
      return /unsafe|safe ?browsing|malware|phishing/i.test(detail)
        ? {
            reason: 'DOMAIN_UNSAFE',
            retryable: false,
            message: `The certificate authority considers ${hostname} unsafe (${detail}). Clear it with Safe Browsing, then refresh.`,
          }
        : {
            reason: 'DOMAIN_BLOCKLISTED',
            retryable: false,
            message: `The certificate authority refuses to issue for ${hostname} by policy (${detail}).`,
          };
    default:
      return {
        retryable: RETRYABLE_TYPES.has(type) || (problem.status ?? 0) >= 500,
        message: `The certificate authority answered ${type}: ${detail}`,
      };
  }
}

/** Anything that is not a problem document (a 5xx page, a reset connection) is the CA's trouble, retried. */
export function caUnreachable(detail: string): ClassifiedProblem {
  return { retryable: true, message: `The certificate authority could not be reached or failed (${detail}); we will try again.` };
}

function dnsProblem(hostname: string, detail: string): Omit<ClassifiedProblem, 'retryable'> {
  if (/NXDOMAIN/i.test(detail)) {
    return { reason: 'NXDOMAIN', message: `The certificate authority found no DNS name ${hostname} (NXDOMAIN). (${detail})` };
  }
  if (/SERVFAIL|time(d)? ?out/i.test(detail)) {
    return { reason: 'DNS_TIMEOUT', message: `The DNS provider for ${hostname} did not answer the certificate authority. (${detail})` };
  }
  return { reason: 'DNS_UNRESOLVABLE', message: `The certificate authority could not resolve ${hostname}. (${detail})` };
}

function validationProblem(
  hostname: string,
  detail: string,
  selfCheck: SelfCheckVerdict | undefined,
): Omit<ClassifiedProblem, 'retryable'> {
  if (selfCheck && !selfCheck.passed)
    return { reason: selfCheck.reason, message: `${selfCheck.message} (The certificate authority said: ${detail})` };
  return {
    reason: 'DNS_INCORRECT',
    message: `The certificate authority could not fetch the challenge from ${hostname}: ${detail}. Check that ${hostname} reaches this app from the internet.`,
  };
}
