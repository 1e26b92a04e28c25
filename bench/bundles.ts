// Each Lambda's bundle as `cdk deploy` uploads it (`cdk synth` with the stack's bundling),
// its size, and its cold import: the bundle's index.mjs imported in a fresh `node` process
// with an environment like Lambda's, five times, the median.
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { lambdaBaseEnvironment, synthesizeBundles, type BundledFunction } from '../infra/local/bundles.ts';
import { median } from './stats.ts';

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
    const { inputs } = fn;
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

/** Lambda's variables and the function's own (those the template gives as strings): what its top-level code reads. */
function lambdaLikeEnvironment(fn: BundledFunction): Record<string, string> {
  const strings = Object.entries(fn.variables).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
  return { ...lambdaBaseEnvironment(fn, `CertificateAutomation-${fn.logicalId}`), ...Object.fromEntries(strings) };
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
