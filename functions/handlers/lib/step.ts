// What every workflow step shares: a middy handler that reads the issuance input,
// and the one way a step reports a failure (recorded first, then thrown for Catch).
import middy from '@middy/core';
import { AcmeProblemError, CaUnreachableError } from '../../adapters/acme/acme-problem-error.ts';
import { caUnreachable, classifyProblem } from '../../domain/acme-problem.ts';
import type { FailureReport } from '../../domain/certificate-decider.ts';
import { IssuanceError } from '../../domain/errors.ts';
import { executionName, type IssuanceInput } from '../../domain/issuance.ts';
import { dependencies, type Dependencies } from './dependencies.ts';
import { execute } from './streams.ts';

export interface StepContext {
  input: IssuanceInput;
  /** Failures the attempt had when this try began (0 for the first try). */
  tryNumber: number;
  deps: Dependencies;
  /** The execution's name: every event a step appends is correlated with it. */
  correlationId: string;
}

export function stepHandler<Input extends IssuanceInput, Output>(run: (input: Input, context: StepContext) => Promise<Output>) {
  return middy(async (event: Input) => {
    const input = parseIssuanceInput(event);
    const tryNumber = (event as { failure?: { failures?: number } }).failure?.failures ?? 0;
    const context = { input, tryNumber, deps: dependencies(), correlationId: executionName(input) };
    try {
      return await run(event, context);
    } catch (error) {
      // Whatever the CA said, in any step, is classified one way and recorded before Catch sees it.
      if (error instanceof AcmeProblemError) {
        const { problem, retryAfter } = error;
        const classified = classifyProblem(problem, { hostname: input.hostname, now: new Date(), ...(retryAfter && { retryAfter }) });
        return fail(context, { ...classified, problem });
      }
      if (error instanceof CaUnreachableError) return fail(context, { ...caUnreachable(error.message), problem: { error: error.message } });
      throw error;
    }
  });
}

export function parseIssuanceInput(event: unknown): IssuanceInput {
  const { app, hostname, attempt } = (event ?? {}) as Partial<IssuanceInput>;
  if (typeof app !== 'string' || typeof hostname !== 'string' || !Number.isInteger(attempt)) {
    throw new TypeError('step input must have app (string), hostname (string) and attempt (integer)');
  }
  return { app, hostname, attempt: attempt as number };
}

/** Records why the attempt failed, then throws so the state machine's Catch takes over. */
export async function fail(
  { input, tryNumber, deps, correlationId }: StepContext,
  failure: Omit<FailureReport, 'attempt' | 'tryNumber'>,
): Promise<never> {
  await execute(deps, input, { type: 'RecordFailure', failure: { attempt: input.attempt, tryNumber, ...failure } }, correlationId);
  throw new IssuanceError(failure.message, failure.reason, failure.retryable, failure.problem);
}
