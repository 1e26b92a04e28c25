// How long the CA may take to validate a challenge: it takes seconds, so a challenge
// still pending long after it was published is given up, and the attempt tries anew.
import { unexplained, type Failure } from './failure-reasons.ts';

export const VALIDATION_DEADLINE_MS = 10 * 60_000;

/** A failure once the deadline has passed without the CA deciding; undefined while there is time. */
export function validationOverdue(
  hostname: string,
  status: string,
  challengePublishedAt: string | undefined,
  now: Date,
): Failure | undefined {
  const publishedAt = Date.parse(challengePublishedAt ?? '');
  if (status === 'valid' || !(now.getTime() - publishedAt > VALIDATION_DEADLINE_MS)) return undefined;
  return unexplained(
    `The CA did not finish validating ${hostname} within ${VALIDATION_DEADLINE_MS / 60_000} minutes (still ${status}); trying again.`,
  );
}
