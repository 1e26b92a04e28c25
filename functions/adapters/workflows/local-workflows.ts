// The local cloud's Step Functions: the synthesized definition run in-process by
// aws-local-stepfunctions, each Task mapped by state name to the handler Lambda runs.
import { StateMachine, type RunOptions } from 'aws-local-stepfunctions';
import { executionName, type IssuanceInput } from '../../domain/issuance.ts';
import type { Workflows } from './workflows.ts';

// aws-local-stepfunctions 3 calls Promise.withResolvers (Node 22); without it every
// Task silently fails into Catch on Node 20.
if (!('withResolvers' in Promise)) {
  Object.assign(Promise, {
    withResolvers<T>() {
      let resolve!: (value: T) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

export type TaskHandler = (input: unknown) => Promise<unknown>;

export interface LocalExecution {
  name: string;
  input: IssuanceInput;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  startedAt: Date;
  /** Settles when the execution ends; never rejects. */
  done: Promise<void>;
  error?: string;
  /** Every state's input and output, as the console's execution history shows them. */
  history: unknown[];
  abort(): void;
}

export interface LocalWorkflowOptions {
  definition: Record<string, unknown>;
  taskHandlers: Record<string, TaskHandler>;
  /** Wait state name -> milliseconds, to shorten polls on this machine. */
  waitOverrides?: Record<string, number>;
}

export class LocalWorkflows implements Workflows {
  private readonly stateMachine: StateMachine;
  readonly executions = new Map<string, LocalExecution>();

  constructor(private readonly options: LocalWorkflowOptions) {
    this.stateMachine = new StateMachine(options.definition as never, { validationOptions: { checkArn: false } });
  }

  async startIssuance(input: IssuanceInput): Promise<{ executionName: string }> {
    const name = executionName(input);
    if (this.executions.has(name)) return { executionName: name };
    const options: RunOptions = {
      overrides: {
        taskResourceLocalHandlers: this.options.taskHandlers as NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers'],
        waitTimeOverrides: this.options.waitOverrides ?? {},
      },
      context: { Execution: { Id: name, Name: name, Input: { ...input }, StartTime: new Date().toISOString() } },
      noThrowOnAbort: true,
    };
    const run = this.stateMachine.run({ ...input }, options);
    const execution: LocalExecution = {
      name,
      input,
      status: 'RUNNING',
      startedAt: new Date(),
      history: [],
      abort: run.abort,
      done: run.result.then(
        (output) => {
          execution.status = output === null ? 'ABORTED' : 'SUCCEEDED';
        },
        (error: Error) => {
          execution.status = 'FAILED';
          execution.error = `${error.name}: ${error.message}`;
        },
      ),
    };
    this.executions.set(name, execution);
    void (async () => {
      for await (const entry of run.eventLogs) execution.history.push(entry);
    })();
    return { executionName: name };
  }

  async stopIssuance(input: IssuanceInput): Promise<void> {
    const execution = this.executions.get(executionName(input));
    if (execution?.status === 'RUNNING') execution.abort();
    await execution?.done;
  }

  async isRunning(input: IssuanceInput): Promise<boolean> {
    return this.executions.get(executionName(input))?.status === 'RUNNING';
  }

  async stopAll(): Promise<void> {
    for (const execution of this.executions.values()) if (execution.status === 'RUNNING') execution.abort();
    await Promise.all([...this.executions.values()].map((execution) => execution.done));
  }
}
