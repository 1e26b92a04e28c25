import type { AcmeProblem } from '../../domain/acme-problem.ts';

/** A CA answer that was a problem document; keeps what acme-client's plain Errors lose. */
export class AcmeProblemError extends Error {
  constructor(
    readonly problem: AcmeProblem,
    readonly httpStatus: number,
    /** When the CA said to come back (Retry-After), as an ISO instant. */
    readonly retryAfter: string | undefined,
  ) {
    super(`${problem.type}: ${problem.detail ?? 'no detail'}`);
    this.name = 'AcmeProblemError';
  }
}

/** The CA did not answer with ACME at all: refused connection, a 5xx page, a broken directory. */
export class CaUnreachableError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'CaUnreachableError';
  }
}

/**
 * The order was already finalized, by an earlier run of the step whose private key
 * died with it: its certificate cannot be used. The try fails and the next one orders anew.
 */
export class OrderAlreadyFinalizedError extends Error {
  constructor(orderUrl: string, status: string) {
    super(`order ${orderUrl} is ${status}: an earlier run finalized it with a key that is gone; a new order follows`);
    this.name = 'OrderAlreadyFinalizedError';
  }
}
