// The acm CLI's entry, loaded by bin/acm.mjs: the process's arguments, environment and streams.
import { run } from './commands.ts';

process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0); // `acm ... | head`
  throw error;
});

process.exitCode = await run(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr });
