// RecordFailure: every Catch lands here. A step that knew why it failed has already
// recorded it; anything else (a bug, a timeout, an outage) is recorded from the error.
import { retryDelayMs } from '../../domain/certificate-decider.ts';
import type { IssuanceInput } from '../../domain/issuance.ts';
import { execute } from '../lib/streams.ts';
import { stepHandler } from '../lib/step.ts';

interface CaughtError {
  Error?: string;
  Cause?: string;
}

export const handler = stepHandler(async (event: IssuanceInput & { error?: CaughtError }, { input, tryNumber, deps, correlationId }) => {
  const { Error: name = 'UnknownError', Cause: cause = '' } = event.error ?? {};
  const message = `Issuance stopped on an unexpected error (${name}): ${causeMessage(cause)}`;
  const failure = { attempt: input.attempt, tryNumber, message, retryable: true, problem: { error: name, cause: causeMessage(cause) } };
  const { state } = await execute(deps, input, { type: 'RecordFailure', failure }, correlationId);
  const { final = true, rateLimitedUntil } = state.attempt?.failure ?? {};
  // The state machine waits (until the rate limit ends, or for the backoff); `failures`
  // numbers the next try, so its steps can tell a retry of theirs from a new try.
  return {
    final,
    failures: state.attempt?.failures ?? 0,
    retryInSeconds: Math.ceil(retryDelayMs(state, deps.config.retryPolicy) / 1000),
    ...(rateLimitedUntil && { rateLimitedUntil }),
  };
});

/** Lambda wraps the error as JSON ({errorMessage, ...}); the local runner passes the message. */
function causeMessage(cause: string): string {
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    return parsed.errorMessage ?? cause;
  } catch {
    return cause;
  }
}
