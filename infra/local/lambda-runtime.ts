// The Lambda service, for running the deployed bundles on this machine: each function gets
// a sandbox of its own (a plain `node` process with the function's environment and nothing
// of this one's), started by its first invocation (a cold start) and kept warm for the next.
// Each invocation is bounded by the function's timeout; events, results and errors cross
// as JSON, as they do in Lambda. Unlike Lambda, one sandbox takes concurrent invocations
// (Lambda would start another); the handlers must not mind either way.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const RUNTIME_CLIENT = fileURLToPath(new URL('./lambda-runtime-client.mjs', import.meta.url));
/** Lambda gives a function's init phase 10 seconds. */
const INIT_TIMEOUT_MS = 10_000;

// However this process ends, no sandbox outlives it.
const runningSandboxes = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of runningSandboxes) child.kill('SIGKILL');
});

export interface LocalFunctionSpec {
  functionName: string;
  functionArn: string;
  /** The bundle's module (`index.mjs`) and the export Lambda calls (`handler`). */
  bundleFile: string;
  handlerExport: string;
  /** Everything the sandbox's process sees in `process.env`. */
  environment: Record<string, string>;
  timeoutSeconds: number;
}

/** What Lambda reports when an invocation fails. */
export interface LambdaErrorPayload {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

/**
 * A failed invocation, as Step Functions sees it: the error's name is `errorType` (what
 * Retry and Catch match), its message the whole payload as JSON (what lands in `Cause`).
 */
export class LambdaFunctionError extends Error {
  constructor(readonly payload: LambdaErrorPayload) {
    super(JSON.stringify(payload));
    this.name = payload.errorType;
  }
}

type Reply = { id: string; result?: unknown; error?: LambdaErrorPayload };
type Pending = { resolve: (result: unknown) => void; reject: (error: Error) => void; timer: NodeJS.Timeout };

export class LocalFunction {
  invocations = 0;
  coldStarts = 0;
  private sandbox: Promise<Sandbox> | undefined;
  private stopped = false;

  constructor(readonly spec: LocalFunctionSpec) {}

  async invoke(event: unknown): Promise<unknown> {
    if (this.stopped) throw new Error(`${this.spec.functionName}: the local Lambda service has stopped`);
    this.invocations += 1;
    const starting = (this.sandbox ??= this.coldStart());
    let sandbox: Sandbox;
    try {
      sandbox = await starting;
    } catch (error) {
      // A failed init is retried by the next invocation, as Lambda does.
      if (this.sandbox === starting) this.sandbox = undefined;
      throw error;
    }
    return sandbox.invoke(event, this.spec);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const sandbox = await this.sandbox?.catch(() => undefined);
    await sandbox?.kill();
  }

  private async coldStart(): Promise<Sandbox> {
    this.coldStarts += 1;
    const sandbox = await Sandbox.start(this.spec);
    // A sandbox that died (crash, timeout) is replaced by the next invocation.
    void sandbox.exited.then(() => {
      if (this.sandbox && !this.stopped) this.sandbox = undefined;
    });
    return sandbox;
  }
}

class Sandbox {
  private readonly pending = new Map<string, Pending>();

  private constructor(
    private readonly child: ChildProcess,
    readonly exited: Promise<void>,
  ) {
    child.on('message', (message: Reply) => {
      const pending = this.pending.get(message.id);
      if (!pending) return;
      this.pending.delete(message.id);
      clearTimeout(pending.timer);
      if (message.error) pending.reject(new LambdaFunctionError(message.error));
      else pending.resolve(message.result);
    });
    void exited.then(() => {
      for (const [id, { reject, timer }] of this.pending) {
        clearTimeout(timer);
        const exit = child.signalCode ?? `exit status ${child.exitCode}`;
        reject(
          new LambdaFunctionError({
            errorType: 'Runtime.ExitError',
            errorMessage: `RequestId: ${id} Error: Runtime exited with error: ${exit}`,
            trace: [],
          }),
        );
      }
      this.pending.clear();
    });
  }

  static async start(spec: LocalFunctionSpec): Promise<Sandbox> {
    const child = spawn(process.execPath, [RUNTIME_CLIENT, spec.bundleFile, spec.handlerExport], {
      // LAMBDA_TASK_ROOT: where the bundle is unpacked.
      cwd: dirname(spec.bundleFile),
      env: spec.environment,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    // What a function logs is its CloudWatch log stream: here, this process's output, prefixed.
    for (const [stream, out] of [
      [child.stdout!, process.stdout],
      [child.stderr!, process.stderr],
    ] as const) {
      createInterface({ input: stream }).on('line', (line) => out.write(`[${spec.functionName}] ${line}\n`));
    }
    runningSandboxes.add(child);
    // A `node` that cannot even start: said by the init below, when it exits.
    child.on('error', (error) => process.stderr.write(`[${spec.functionName}] ${String(error)}\n`));
    const exited = new Promise<void>((resolve) =>
      child.once('exit', () => {
        runningSandboxes.delete(child);
        resolve();
      }),
    );
    await new Promise<void>((resolve, reject) => {
      const fail = (payload: LambdaErrorPayload) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new LambdaFunctionError(payload));
      };
      const timer = setTimeout(
        () => fail({ errorType: 'Runtime.InitTimeout', errorMessage: `init took over ${INIT_TIMEOUT_MS} ms`, trace: [] }),
        INIT_TIMEOUT_MS,
      );
      child.once('message', (message: { ready?: true; initError?: LambdaErrorPayload }) => {
        if (message.initError) return fail(message.initError);
        clearTimeout(timer);
        resolve();
      });
      void exited.then(() => fail({ errorType: 'Runtime.ExitError', errorMessage: `init exited: ${child.exitCode}`, trace: [] }));
    });
    return new Sandbox(child, exited);
  }

  invoke(event: unknown, spec: LocalFunctionSpec): Promise<unknown> {
    const id = randomUUID();
    const timeoutMs = spec.timeoutSeconds * 1000;
    return new Promise((resolve, reject) => {
      // Past its timeout Lambda stops the sandbox, whatever the handler is doing.
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new LambdaFunctionError({
            errorType: 'Sandbox.Timedout',
            errorMessage: `RequestId: ${id} Error: Task timed out after ${spec.timeoutSeconds.toFixed(2)} seconds`,
            trace: [],
          }),
        );
        void this.kill();
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      const invocation = { id, requestId: id, deadline: Date.now() + timeoutMs, invokedFunctionArn: spec.functionArn, event };
      // A sandbox that died just now: its exit rejects what is pending, this one included.
      this.child.send(invocation, () => undefined);
    });
  }

  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }
}
