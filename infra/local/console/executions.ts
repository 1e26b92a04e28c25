// The local runner's executions as the console shows them: a summary a row, and each
// state's visits with their input, output and error. Read-only, secrets taken out.
import type { LocalExecution } from '../../../functions/adapters/workflows/local-workflows.ts';
import { redactPrivateKeys } from '../../../cli/format.ts';
import type { ExecutionDetail, ExecutionStep, ExecutionSummary } from './types.ts';

/** The parts of aws-local-stepfunctions' event log entries the console reads. */
interface HistoryEvent {
  type: string;
  timestamp: number;
  state?: { name: string; type: string; input?: unknown; output?: unknown };
  Error?: string;
  Cause?: unknown;
  catch?: { catcher?: { Next?: string } };
}

const ENDED = new Set(['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionAborted', 'ExecutionTimeout']);

/** Field names that may hold a secret. No step carries one by design: this is the second line. */
const SECRET_FIELD = /private.?key|account.?key|secret|password/i;

/** A JSON copy of `value` without secret-looking fields or PEM private keys; errors become `{name, message}`. */
export function withoutSecrets(value: unknown): unknown {
  if (typeof value === 'string') return redactPrivateKeys(value);
  if (value instanceof Error) return { name: value.name, message: withoutSecrets(value.message) };
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (value && typeof value === 'object') {
    const kept = Object.entries(value).filter(([key]) => !SECRET_FIELD.test(key));
    return Object.fromEntries(kept.map(([key, field]) => [key, withoutSecrets(field)]));
  }
  return value;
}

/** Each state entered, in order, with how its visit went. */
export function executionSteps(history: readonly unknown[]): ExecutionStep[] {
  const steps: ExecutionStep[] = [];
  for (const event of history as HistoryEvent[]) {
    const state = event.state;
    if (!state) continue;
    const at = new Date(event.timestamp).toISOString();
    if (event.type === 'StateEntered') {
      steps.push({
        index: steps.length,
        name: state.name,
        type: state.type,
        status: 'running',
        enteredAt: at,
        input: state.input,
        retries: 0,
      });
      continue;
    }
    const step = steps.findLast((visit) => visit.name === state.name);
    if (!step) continue;
    if (event.type === 'StateFailed') {
      step.status = 'failed';
      step.error = { error: event.Error ?? 'Error', cause: causeText(event.Cause) };
    } else if (event.type === 'StateRetried') {
      step.status = 'running';
      step.retries += 1;
    } else if (event.type === 'StateCaught') {
      step.status = 'caught';
      const next = event.catch?.catcher?.Next;
      if (next) step.caughtTo = next;
    } else if (event.type === 'StateExited') {
      step.exitedAt = at;
      step.output = state.output;
      if (step.status === 'running') step.status = 'succeeded';
    }
  }
  return withoutSecrets(steps) as ExecutionStep[];
}

function executionSummary(execution: LocalExecution): ExecutionSummary {
  const history = execution.history as HistoryEvent[];
  const ended = history.findLast((event) => ENDED.has(event.type));
  const current = history.findLast((event) => event.type === 'StateEntered');
  return {
    name: execution.name,
    app: execution.input.app,
    hostname: execution.input.hostname,
    attempt: execution.input.attempt,
    status: execution.status,
    startedAt: execution.startedAt.toISOString(),
    ...(ended && { stoppedAt: new Date(ended.timestamp).toISOString() }),
    ...(current?.state && { currentState: current.state.name }),
    ...(execution.error && { error: withoutSecrets(execution.error) as string }),
  };
}

export function executionDetail(execution: LocalExecution): ExecutionDetail {
  return {
    ...executionSummary(execution),
    input: withoutSecrets(execution.input),
    steps: executionSteps(execution.history),
  };
}

/** Newest first. */
export function executionList(executions: Iterable<LocalExecution>): ExecutionSummary[] {
  return [...executions].sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime()).map(executionSummary);
}

function causeText(cause: unknown): string {
  if (typeof cause === 'string') return cause;
  if (cause instanceof Error) return cause.message;
  return cause === undefined ? '' : JSON.stringify(cause);
}
