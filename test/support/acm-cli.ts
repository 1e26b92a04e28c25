// The acm CLI run as people run it (`node bin/acm.mjs ...`), with what it printed and its exit code.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `acm ARGS` with `env` (ACM_API_URL, ACM_TOKEN, ACM_APP...) over this process's environment. */
export function runAcm(args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/acm.mjs', ...args],
      { cwd: ROOT, timeout: 90_000, env: { ...process.env, ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? -1) : 0, stdout, stderr }),
    );
  });
}
