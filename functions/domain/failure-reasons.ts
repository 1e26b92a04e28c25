// Why a certificate is not issued, in one place: every reason code people and
// machines match on, whether trying again can help, and what a person should do.
// The verdict functions (names, DNS, CAA, self-check, the CA's problems, the
// validation deadline) build their failures here; nothing outside the domain names a code.

export interface ReasonEntry {
  /** Trying again later can succeed without anyone acting: the workflow backs off and retries. */
  retried: boolean;
  /** What the code means, in one line. */
  meaning: string;
  /** What to do about it, said after what happened unless the verdict knows better. */
  whatToDo: string;
}

export const REASONS = {
  CN_TOO_LONG: {
    retried: false,
    meaning: "The name is longer than the 64 characters a certificate's name can hold",
    whatToDo: 'Use a shorter domain.',
  },
  DNS_INCORRECT: {
    retried: true,
    meaning: 'The domain does not reach the app: not pointed at its DNS target, IPv6 (AAAA) records, or the challenge is not served',
    whatToDo: "Point the domain at the app's DNS target with a CNAME record, and nothing else.",
  },
  DNS_UNRESOLVABLE: {
    retried: true,
    meaning: 'The name has no records in public DNS yet',
    whatToDo: "Add a CNAME record pointing at the app's DNS target.",
  },
  CDN_NO_CHALLENGE: {
    retried: true,
    meaning: 'The challenge URL answers 404, typically through a CDN or proxy',
    whatToDo: 'If a CDN or proxy is in front of the app, let /.well-known/acme-challenge/ through to it.',
  },
  REDIRECT_DROPS_PATH: {
    retried: true,
    meaning: 'The challenge URL redirects somewhere that drops its path',
    whatToDo: 'Redirects must keep /.well-known/acme-challenge/.',
  },
  CNAME_TARGET_INCORRECT: {
    retried: true,
    meaning: 'The domain points at a legacy DNS target',
    whatToDo: "Change its CNAME record to the app's DNS target.",
  },
  RATE_LIMITED: {
    retried: true,
    meaning: 'The certificate authority is rate limiting issuance until a given time',
    whatToDo: 'We will try again then.',
  },
  DNS_TIMEOUT: {
    retried: true,
    meaning: 'The DNS provider did not answer (SERVFAIL or timeout)',
    whatToDo: 'We will keep trying; if this lasts, ask your DNS provider.',
  },
  DNS_CHALLENGE_NOT_VISIBLE: {
    retried: true,
    meaning: "The DNS-01 TXT record is not (yet) what the platform's zone answers",
    whatToDo: "We will try again; if it lasts, an operator must check the platform's DNS zone and its servers.",
  },
  CAA_UNSUPPORTED: {
    retried: true,
    meaning: 'The DNS provider cannot answer CAA queries, so no CA may issue',
    whatToDo: 'Ask the provider to answer CAA queries (an empty answer is fine), or move the zone.',
  },
  CAA_FORBIDS: {
    retried: false,
    meaning: 'A CAA record forbids our certificate authority to issue',
    whatToDo: 'Add a CAA "issue" record for our certificate authority, then refresh.',
  },
  NXDOMAIN: {
    retried: true,
    meaning: 'The name does not exist in DNS',
    whatToDo: 'Check the name, or create its record at your DNS provider.',
  },
  DOMAIN_UNSAFE: {
    retried: false,
    meaning: 'The certificate authority considers the domain unsafe (Safe Browsing)',
    whatToDo: 'Clear it with Safe Browsing, then refresh.',
  },
  DOMAIN_BLOCKLISTED: {
    retried: false,
    meaning: 'The certificate authority refuses the name by policy',
    whatToDo: 'Upload a certificate of your own for it, from another certificate authority.',
  },
} as const satisfies Record<string, ReasonEntry>;

export type FailureReason = keyof typeof REASONS;

export const FAILURE_REASONS = Object.keys(REASONS) as [FailureReason, ...FailureReason[]];

/** A verdict that issuance cannot go on now, and the words a person reads about it. */
export interface Failure {
  /** Absent when nobody can act on the cause (the CA's own outage, a bug): there is no code to show. */
  reason?: FailureReason;
  retryable: boolean;
  message: string;
}

/** What happened, then what to do; whether it is retried is the reason's, from the table. */
export function failure(reason: FailureReason, whatHappened: string, whatToDo: string = REASONS[reason].whatToDo): Failure {
  return { reason, retryable: REASONS[reason].retried, message: `${whatHappened} ${whatToDo}` };
}

/** A cause with no reason code: retried unless it is known that asking again cannot help. */
export function unexplained(message: string, retryable = true): Failure {
  return { retryable, message };
}

/** The CA's chains lead to no root clients trust: `verify-full` would fail, so nothing is installed. */
export function untrustedChains(hostname: string): Failure {
  return unexplained(
    `The certificate authority's chains for ${hostname} lead to no publicly trusted root, so clients could not verify it; nothing was installed.`,
    false,
  );
}

/** Anything a step did not foresee (a bug, a timeout, an outage) is retried: the next try may pass. */
export function unexpectedError(errorName: string, cause: string): Failure {
  return unexplained(`Issuance stopped on an unexpected error (${errorName}): ${cause}`);
}
