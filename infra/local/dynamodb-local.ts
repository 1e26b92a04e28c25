// DynamoDB Local for the local cloud and the tests: in memory, or kept in a folder
// (`dbPath`) across restarts; on 127.0.0.1 only, on a port the OS picks unless one is asked for.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 30_000;
const PROBE_INTERVAL_MS = 50;
const OUTPUT_TAIL_LINES = 40;
const LISTENING_LINE = /^listening on port (\d+)$/;

const emulatorDir = path.join(path.dirname(createRequire(import.meta.url).resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
const libDir = path.join(emulatorDir, 'DynamoDBLocal_lib');
const launcherSource = fileURLToPath(new URL('./LoopbackDynamoDbLocal.java', import.meta.url));

// 'exit' handlers must be synchronous, so a plain SIGKILL is all we can do there.
// (The launcher also exits on its own when our end of its stdin closes.)
const runningChildren = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of runningChildren) child.kill('SIGKILL');
});

/** Starts DynamoDB Local on 127.0.0.1 (in memory unless `dbPath` names its folder); resolves once it answers requests. */
export async function startDynamoDbLocal(options: { port?: number; dbPath?: string } = {}): Promise<DynamoDbLocal> {
  const child = spawn(
    'java',
    [
      `-Djava.library.path=${libDir}`,
      // A plain IPv4 socket, rather than a dual-stack one bound to ::ffff:127.0.0.1.
      '-Djava.net.preferIPv4Stack=true',
      // Short-lived test servers: fast startup matters more than peak JIT throughput.
      '-XX:TieredStopAtLevel=1',
      '-cp',
      [path.join(emulatorDir, 'DynamoDBLocal.jar'), path.join(libDir, '*')].join(path.delimiter),
      launcherSource,
      String(options.port ?? 0),
      ...(options.dbPath ? ['-dbPath', options.dbPath] : ['-inMemory']),
      '-disableTelemetry',
    ],
    // This jar version parses -disableTelemetry but never reads it; this variable is what it checks.
    { env: { ...process.env, DDB_LOCAL_TELEMETRY: '0' }, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  runningChildren.add(child);
  // 'close' (unlike 'exit') also follows a failed spawn, and comes after the last output is read.
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve())).then(() => {
    runningChildren.delete(child);
  });
  const stop = async () => {
    // In memory there is nothing to flush; on disk every write was committed to SQLite as it was answered.
    child.kill('SIGKILL');
    await exited;
  };

  const outputTail: string[] = [];
  const remember = (line: string) => {
    outputTail.push(line);
    if (outputTail.length > OUTPUT_TAIL_LINES) outputTail.shift();
  };
  const stdoutLines = createInterface({ input: child.stdout });
  stdoutLines.on('line', remember);
  createInterface({ input: child.stderr }).on('line', remember);
  const listeningPort = new Promise<number>((resolve) => {
    stdoutLines.on('line', (line) => {
      const match = LISTENING_LINE.exec(line);
      if (match) resolve(Number(match[1]));
    });
  });

  const startup = new AbortController();
  const timeout = setTimeout(() => startup.abort(new Error(`not ready within ${STARTUP_TIMEOUT_MS / 1000} s`)), STARTUP_TIMEOUT_MS);
  const abortOnEarlyExit = (code: number | null, signal: NodeJS.Signals | null) =>
    startup.abort(new Error(`java exited early (${signal ?? `exit code ${code}`})`));
  child.once('close', abortOnEarlyExit);
  child.on('error', (error) => startup.abort(error));

  try {
    const port = await untilAborted(listeningPort, startup.signal);
    const endpoint = `http://127.0.0.1:${port}`;
    await waitUntilAnswering(endpoint, startup.signal);
    return { endpoint, port, stop };
  } catch (error) {
    await stop();
    throw new Error(
      `DynamoDB Local failed to start: ${errorMessage(error)}\n` + `--- last output of ${launcherSource} ---\n${outputTail.join('\n')}`,
      { cause: error },
    );
  } finally {
    clearTimeout(timeout);
    child.off('close', abortOnEarlyExit);
  }
}

async function waitUntilAnswering(endpoint: string, signal: AbortSignal): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1, // we poll ourselves; SDK backoff would only add delay
  });
  let lastProbeError: unknown;
  try {
    while (!signal.aborted) {
      try {
        await client.send(new ListTablesCommand({}), { abortSignal: signal });
        return;
      } catch (probeError) {
        if (!signal.aborted) lastProbeError = probeError;
      }
      await sleep(PROBE_INTERVAL_MS, undefined, { signal }).catch(() => {});
    }
    const lastProbeOutcome = lastProbeError ? `; last ListTables error: ${errorMessage(lastProbeError)}` : '';
    throw new Error(`${errorMessage(signal.reason)}${lastProbeOutcome}`);
  } finally {
    client.destroy();
  }
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const rejectWithReason = () => reject(signal.reason);
    if (signal.aborted) return rejectWithReason();
    signal.addEventListener('abort', rejectWithReason, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', rejectWithReason));
  });
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
