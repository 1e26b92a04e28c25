// The local cloud as a process of its own, for crash tests: started on a data folder,
// killed for real (SIGKILL to its whole process group: Pebble, DynamoDB Local and the
// database servers die with it), started again on the same folder.
//
// Run as a script, it starts the cloud and prints one JSON line when ready. With
// KILL_AT_STATE=<Task state name> it kills its own process group as soon as that
// step's handler has done its work, before the workflow records the step's output:
// a crash at the worst moment, not a clean stop. KILL_AT_STATE=CertificateImported
// kills it inside FinalizeAndInstall, between the import and the event that records it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ISSUANCE_STEPS } from '../../infra/workflows/issuance.ts';
import { LOCAL_DNS_TARGET_SUFFIX, loadSourceHandler, startLocalCloud, type HandlerLoader } from '../../infra/local/cloud.ts';

export interface CloudProcessReady {
  apiUrl: string;
  routerHttpsPort: number;
  pebbleRootFile: string;
  operatorToken: string;
}

export interface CloudProcess {
  ready: Promise<CloudProcessReady>;
  /** Every line the process wrote, stdout and stderr (warnings and errors go there): its log. */
  output: string[];
  /** Resolves when the process group is gone. */
  exited: Promise<void>;
  kill(): void;
}

/** Names the cloud process points at the app `app` (the DNS zone lives in the process). */
export function startCloudProcess(options: { dataDir: string; app: string; hostnames: string[]; killAtState?: string }): CloudProcess {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      CLOUD_PROCESS_DIR: options.dataDir,
      CLOUD_PROCESS_APP: options.app,
      CLOUD_PROCESS_HOSTNAMES: options.hostnames.join(','),
      ...(options.killAtState && { KILL_AT_STATE: options.killAtState }),
    },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const output: string[] = [];
  const ready = new Promise<CloudProcessReady>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      if (line.startsWith('{"apiUrl"')) resolve(JSON.parse(line) as CloudProcessReady);
    });
    void exited.then(() => reject(new Error('the cloud process ended before it was ready')));
  });
  ready.catch(() => undefined);
  createInterface({ input: child.stderr! }).on('line', (line) => {
    output.push(line);
    process.stderr.write(`${line}\n`);
  });
  return {
    ready,
    output,
    exited,
    kill: () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Gone already.
      }
    },
  };
}

/** Inside FinalizeAndInstall: the certificate is in the store, no event says so yet. */
export const AFTER_IMPORT = 'CertificateImported';

/** Wraps the source loader: the named step's handler kills the whole process group once it has run. */
function killingAt(state: string | undefined): HandlerLoader {
  const file = state && state !== AFTER_IMPORT ? ISSUANCE_STEPS[state as keyof typeof ISSUANCE_STEPS] : undefined;
  if (state && state !== AFTER_IMPORT && !file) {
    throw new Error(`KILL_AT_STATE=${state} is not a Task state (${Object.keys(ISSUANCE_STEPS).join(', ')}) nor ${AFTER_IMPORT}`);
  }
  return async (handlerFile, ports) => {
    const handler = await loadSourceHandler(handlerFile, ports);
    if (handlerFile !== file) return handler;
    return async (event, context) => {
      await handler(event, context).catch(() => undefined);
      process.kill(0, 'SIGKILL');
      return new Promise<never>(() => undefined);
    };
  };
}

async function main(): Promise<void> {
  const app = process.env.CLOUD_PROCESS_APP ?? 'crash';
  const cloud = await startLocalCloud({
    dataDir: process.env.CLOUD_PROCESS_DIR!,
    handlerLoader: killingAt(process.env.KILL_AT_STATE),
    sweepIntervalMs: 60 * 60_000,
    settings: { retryPolicy: { firstRetryDelayMs: 1000, maxRetryDelayMs: 5000 } },
  });
  if (process.env.KILL_AT_STATE === AFTER_IMPORT) {
    const install = cloud.certificates.install.bind(cloud.certificates);
    cloud.certificates.install = async (bundle, replaceArn) => {
      await install(bundle, replaceArn);
      process.kill(0, 'SIGKILL');
      return new Promise<never>(() => undefined);
    };
  }
  for (const hostname of (process.env.CLOUD_PROCESS_HOSTNAMES ?? '').split(',').filter(Boolean)) {
    cloud.dns.zone.set(hostname, 'CNAME', [`${app}.${LOCAL_DNS_TARGET_SUFFIX}`]);
  }
  const ready: CloudProcessReady = {
    apiUrl: cloud.apiUrl,
    routerHttpsPort: cloud.router.https.port,
    pebbleRootFile: cloud.pebbleRootFile,
    operatorToken: cloud.tokens.operator,
  };
  console.log(JSON.stringify(ready));
  process.once('SIGTERM', () => void cloud.stop().then(() => process.exit(0)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
