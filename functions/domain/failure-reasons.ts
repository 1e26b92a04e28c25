// Why a certificate is not issued: a machine code plus words a person can act on.

export const FAILURE_REASONS = [
  'CN_TOO_LONG',
  'DNS_INCORRECT',
  'DNS_UNRESOLVABLE',
  'CDN_NO_CHALLENGE',
  'REDIRECT_DROPS_PATH',
  'CNAME_TARGET_INCORRECT',
  'RATE_LIMITED',
  'DNS_TIMEOUT',
  'CAA_UNSUPPORTED',
  'CAA_FORBIDS',
  'NXDOMAIN',
  'DOMAIN_UNSAFE',
  'DOMAIN_BLOCKLISTED',
] as const;

export type FailureReason = (typeof FAILURE_REASONS)[number];
