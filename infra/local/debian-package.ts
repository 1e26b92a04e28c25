// Programs the local cloud runs from Debian packages (Pebble, PostgreSQL): found where
// the package puts them, or installed with apt-get when this process may (root).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
/** apt-get's output stays in memory until it ends: room for a long install log. */
const APT_OUTPUT_BYTES = 64 * 1024 * 1024;
const APT_OUTPUT_TAIL_CHARS = 8_000;

export interface DebianPackage {
  /** The package apt-get installs, e.g. `postgresql`. */
  name: string;
  /** What it is, for the messages, e.g. "PostgreSQL (the database server)". */
  description: string;
  /** Where its program is once installed, or undefined while it is not. */
  find(): Promise<string | undefined>;
}

/** What `find` returns, installing the package first when `find` finds nothing. */
export async function ensureDebianPackage(debianPackage: DebianPackage): Promise<string> {
  const found = await debianPackage.find();
  if (found) return found;
  const { name, description } = debianPackage;
  if (process.getuid?.() !== 0) {
    throw new Error(`${description} is not installed. Install it with: sudo apt-get install ${name}`);
  }
  process.stderr.write(`${description} is not installed: installing the Debian package (apt-get install ${name})\n`);
  await aptGet(['update']);
  await aptGet(['install', '-y', name]);
  const installed = await debianPackage.find();
  if (!installed) throw new Error(`apt-get installed ${name}, but its program is still not where it should be`);
  return installed;
}

async function aptGet(args: string[]): Promise<void> {
  try {
    await execFileAsync('apt-get', args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, maxBuffer: APT_OUTPUT_BYTES });
  } catch (error) {
    const { code, stdout = '', stderr = '' } = error as { code?: number | string; stdout?: string; stderr?: string };
    throw new Error(`apt-get ${args.join(' ')} failed (${code}):\n${(stdout + stderr).slice(-APT_OUTPUT_TAIL_CHARS)}`);
  }
}
