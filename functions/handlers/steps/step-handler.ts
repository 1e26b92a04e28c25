// What every workflow step's Lambda shares: parse the state machine's input, run the
// step's use case (which records any failure before Catch sees it), return its output.
import middy from '@middy/core';
import { runStep, type Step } from '../../application/issuance.ts';
import type { EventLog } from '../../application/ports.ts';
import { executionName, type IssuanceInput } from '../../domain/issuance.ts';
import { observed } from '../observability.ts';
import { awsHandler, events, settings, type Builders, type Built } from '../wire.ts';

/** The state machine's input to every step: the issuance input, and what Catch and RecordFailure added. */
export interface StepEvent extends IssuanceInput {
  failure?: { failures?: number };
  error?: { Error?: string; Cause?: string };
}

type StepPorts<B extends Builders> = Built<B> & EventLog;

/**
 * A step's Lambda: `createHandler` for the local cloud's own ports, `handler` for AWS.
 * Every step reads and appends to the log; `builders` make the other ports it uses.
 */
export function stepLambda<B extends Builders, Output>(
  builders: B,
  useCase: (ports: StepPorts<B>, step: Step, event: StepEvent) => Promise<Output>,
) {
  const createHandler = (ports: StepPorts<B>) =>
    observed(
      middy(async (event: StepEvent) => {
        const input = parseIssuanceInput(event);
        const step = { input, tryNumber: event.failure?.failures ?? 0, correlationId: executionName(input) };
        return runStep(ports, step, (ports, step) => useCase(ports, step, event));
      }),
      // The execution's name: what every event the step appends is correlated with.
      (event) => {
        const { app, hostname, attempt } = event ?? ({} as StepEvent);
        return { correlationId: executionName(parseIssuanceInput(event)), keys: { app, hostname, attempt: String(attempt) } };
      },
    );
  return { createHandler, handler: awsHandler({ ...builders, events, settings }, createHandler) };
}

function parseIssuanceInput(event: unknown): IssuanceInput {
  const { app, hostname, attempt, restart } = (event ?? {}) as Partial<IssuanceInput>;
  if (typeof app !== 'string' || typeof hostname !== 'string' || !Number.isInteger(attempt)) {
    throw new TypeError('step input must have app (string), hostname (string) and attempt (integer)');
  }
  return { app, hostname, attempt: attempt as number, ...(Number.isInteger(restart) && { restart: restart as number }) };
}
