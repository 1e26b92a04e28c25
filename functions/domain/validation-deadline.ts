// How long the CA may take to validate a challenge: it takes seconds, so a challenge
// still pending long after it was published is given up, and the attempt tries anew.
import { unexplained, type Failure } from './failure-reasons.ts';

export const VALIDATION_DEADLINE_MS = 10 * 60_000;

/** How the step that asks the CA looks again while it validates: the first look soon, then each twice as late. */
export interface ValidationLooks {
  firstMs: number;
  /** The looks stop here (the state machine's Wait and CheckValidation take over). */
  budgetMs: number;
}

/** The waits before each look: firstMs, 2 firstMs, 4 firstMs, ... while they fit the budget. */
export function validationLookDelays({ firstMs, budgetMs }: ValidationLooks): number[] {
  const delays: number[] = [];
  for (let delay = firstMs, spent = 0; firstMs > 0 && spent + delay <= budgetMs; spent += delay, delay *= 2) delays.push(delay);
  return delays;
}

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
