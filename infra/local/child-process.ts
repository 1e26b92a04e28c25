// A server the local cloud runs as a child process: how it ended, and a stop that asks
// first and forces after a grace period. One left behind would hold its ports and folder.
import type { ChildProcess } from 'node:child_process';

export interface Supervised {
  /** Resolves with how the process ended, whether it exited or never started. */
  exited: Promise<string>;
  stop(): Promise<void>;
}

export function supervise(child: ChildProcess, signals: { stop: NodeJS.Signals; force: NodeJS.Signals; graceMs: number }): Supervised {
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ? `was killed by ${signal}` : `exited with code ${code}`));
    child.once('error', (error) => resolve(`failed to start: ${error.message}`));
  });
  const killOnExit = (): void => {
    child.kill(signals.force);
  };
  process.on('exit', killOnExit);
  return {
    exited,
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signals.stop);
      const force = setTimeout(() => child.kill(signals.force), signals.graceMs);
      await exited;
      clearTimeout(force);
    },
  };
}
