// Errors the workflow matches on: each class's `name` is the ErrorEquals string
// of the state machine, so renaming one is a change to the definition too.
import type { FailureReason } from './failure-reasons.ts';

abstract class NamedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The domain was never added, or has been removed: the workflow stops. */
export class DomainNotFoundError extends NamedError {}

/** A step reported an outcome for an attempt that is no longer the current one. */
export class StaleAttemptError extends NamedError {}

/** Two writers appended to one stream at once; re-read, re-decide, retry. */
export class ConcurrencyError extends NamedError {}

/** Issuance cannot go on; carries the reason a person reads. */
export class IssuanceError extends NamedError {
  constructor(
    message: string,
    readonly reason: FailureReason | undefined,
    readonly retryable: boolean,
    readonly problem?: unknown,
  ) {
    super(message);
  }
}

/** Input that breaks a rule: 400, naming the field and the rule; nothing was changed. */
export class InvalidInputError extends NamedError {
  constructor(
    readonly field: string,
    readonly rule: string,
  ) {
    super(`${field}: ${rule}`);
  }
}

/** The request conflicts with what exists (a hostname on another app, the 101st domain): 409. */
export class ConflictError extends NamedError {}

/** No such app, domain or certificate, or not one the caller may see: 404. */
export class NotFoundError extends NamedError {}

/** The one answer for an app that does not exist and for one the caller may not see: they must not be told apart. */
export function appNotFound(app: string): NotFoundError {
  return new NotFoundError(`app ${app} not found`);
}
