// Each Lambda's bundle as `cdk deploy` uploads it (`cdk synth` with the stack's bundling),
// its size, and its cold import: the bundle's index.mjs imported in a fresh `node` process
// with an environment like Lambda's, five times, the median.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { synthesizeBundles, type BundledFunction } from '../infra/local/bundles.ts';

const RUNS = 5;

export interface BundleRow {
  /** The function's logical id in the stack, without CDK's hash (`StepCreateOrder`). */
  name: string;
  /** index.mjs, in KB (1000 bytes). */
  kb: number;
  /** Median of RUNS cold imports, in ms. */
  coldMs: number;
  /** What weighs most in it, by package (or by folder of ours), from its esbuild metafile. */
  parts: Array<{ name: string; kb: number }>;
}

export interface BundlesResult {
  rows: BundleRow[];
  largestKb: number;
  slowestColdMs: number;
  /** Whether the AWS SDK is inside the bundles (the stack's `bundleAwsSDK`), read from their metafiles. */
  sdkBundled: boolean;
}

export async function measureBundles(): Promise<BundlesResult> {
  const { functions } = await synthesizeBundles();
  const rows: BundleRow[] = [];
  let sdkBundled = false;
  // One at a time: the imports are timed, and they would compete for the CPU.
  for (const fn of functions) {
    const times: number[] = [];
    for (let run = 0; run < RUNS; run++) times.push(await coldImportMs(fn));
    const inputs = await bundledInputs(fn);
    rows.push({
      name: fn.logicalId.replace(/[0-9A-F]{8}$/, ''),
      kb: fn.bundleBytes / 1000,
      coldMs: median(times),
      parts: largestParts(inputs),
    });
    sdkBundled ||= Object.keys(inputs).some((input) => input.includes('node_modules/@aws-sdk/'));
  }
  rows.sort((a, b) => b.kb - a.kb);
  return {
    rows,
    largestKb: Math.max(...rows.map(({ kb }) => kb)),
    slowestColdMs: Math.max(...rows.map(({ coldMs }) => coldMs)),
    sdkBundled,
  };
}

export function printBundles({ rows, sdkBundled }: BundlesResult): void {
  const width = Math.max(...rows.map(({ name }) => name.length));
  console.log(`${'function'.padEnd(width)}  ${'KB'.padStart(6)}  ${'cold ms'.padStart(7)}  largest parts (KB)`);
  for (const { name, kb, coldMs, parts } of rows) {
    const largest = parts.map((part) => `${part.name} ${part.kb.toFixed(0)}`).join(', ');
    console.log(`${name.padEnd(width)}  ${kb.toFixed(0).padStart(6)}  ${coldMs.toFixed(0).padStart(7)}  ${largest}`);
  }
  console.log(
    `bundles: minified index.mjs from cdk synth, the AWS SDK ${sdkBundled ? 'bundled (bundleAwsSDK: true)' : 'left external (the runtime’s)'}; ` +
      `cold = import in a fresh node ${process.version} process, median of ${RUNS}; load average ${loadavg()[0]!.toFixed(1)} on this machine`,
  );
}

/**
 * The function's own variables (those the template gives as strings), and of what Lambda sets
 * the ones the modules' top-level code reads: Powertools' Logger and Tracer (the function's
 * name, memory, the runtime, which turns tracing on) and X-Ray's SDK (LAMBDA_TASK_ROOT, its
 * Lambda mode). infra/local/bundles.ts gives the sandboxes that run the bundles all of Lambda's.
 */
function lambdaLikeEnvironment(fn: BundledFunction): Record<string, string> {
  const strings = Object.entries(fn.variables).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
  const lambda = {
    AWS_REGION: 'us-east-1',
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: `CertificateAutomation-${fn.logicalId}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    LAMBDA_TASK_ROOT: dirname(fn.bundleFile),
  };
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...Object.fromEntries(strings),
    ...lambda,
    // Lambda runs Node 22; on an older Node here the SDK would warn on stderr.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** One cold import of the bundle: a new process, timed from just before `import()` to its end. */
async function coldImportMs(fn: BundledFunction): Promise<number> {
  const script = [
    `const t = performance.now();`,
    `await import(${JSON.stringify(pathToFileURL(fn.bundleFile).href)});`,
    `process.stdout.write(String(performance.now() - t));`,
  ].join(' ');
  const output: string[] = [];
  const errors: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: dirname(fn.bundleFile),
      env: lambdaLikeEnvironment(fn),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => errors.push(chunk.toString()));
    child.once('error', reject);
    child.once('exit', resolve);
  });
  const ms = Number(output.join(''));
  if (code !== 0 || !Number.isFinite(ms)) throw new Error(`importing ${fn.bundleFile} failed (exit ${code}):\n${errors.join('')}`);
  return ms;
}

/** From the esbuild metafile beside the bundle: each file that went in, and its bytes in index.mjs. */
async function bundledInputs(fn: BundledFunction): Promise<Record<string, number>> {
  const { outputs } = JSON.parse(await readFile(join(dirname(fn.bundleFile), 'index.meta.json'), 'utf8')) as {
    outputs: Record<string, { entryPoint?: string; inputs: Record<string, { bytesInOutput: number }> }>;
  };
  const output = Object.values(outputs).find(({ entryPoint }) => entryPoint);
  return Object.fromEntries(Object.entries(output?.inputs ?? {}).map(([input, { bytesInOutput }]) => [input, bytesInOutput]));
}

/** The four packages (the innermost node_modules folder) or folders of ours (`functions/domain`) that weigh most. */
function largestParts(inputs: Record<string, number>): BundleRow['parts'] {
  const byPart = new Map<string, number>();
  for (const [input, bytes] of Object.entries(inputs)) {
    const inPackage = input.match(/.*node_modules\/((?:@[^/]+\/)?[^/]+)/);
    const part = inPackage ? inPackage[1]! : input.split('/').slice(0, 2).join('/');
    byPart.set(part, (byPart.get(part) ?? 0) + bytes);
  }
  return [...byPart]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([name, bytes]) => ({ name, kb: bytes / 1000 }));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
