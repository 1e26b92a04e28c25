// An ACME problem document (RFC 8555 section 6.7), as the CA sent it.
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
