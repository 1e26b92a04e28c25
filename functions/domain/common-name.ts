// A certificate's common name has room for 64 characters (RFC 5280 ub-common-name):
// a longer domain is a valid name that still cannot be issued for.
import { failure, type Failure } from './failure-reasons.ts';

export const MAX_COMMON_NAME_LENGTH = 64;

/** Why a valid name still cannot be issued for, before anything is asked of DNS or the CA. */
export function commonNameProblem(hostname: string): Failure | undefined {
  if (hostname.length <= MAX_COMMON_NAME_LENGTH) return undefined;
  return failure(
    'CN_TOO_LONG',
    `${hostname} is ${hostname.length} characters long; a certificate's name can have at most ${MAX_COMMON_NAME_LENGTH}.`,
  );
}
