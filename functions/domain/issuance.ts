// What a domain's issuance workflow is started with, and what operators see it named.

/** The state machine's input: names only, never a key or a secret. */
export interface IssuanceInput {
  app: string;
  hostname: string;
  attempt: number;
  /** Renewals found together start spread out (jitter), so the CA sees no burst. */
  startDelaySeconds?: number;
  /** How many times the reconciler started this attempt again: each execution has a name of its own. */
  restart?: number;
  /** A restarted execution resumes the attempt at the try it was on (as RecordFailure's output carries it). */
  failure?: { failures?: number };
}

const MAX_EXECUTION_NAME = 80;

/** The input that names the execution running a domain's current attempt now. */
export function currentExecution(ref: { app: string; hostname: string }, attempt: { number: number; restarts: number }): IssuanceInput {
  return { app: ref.app, hostname: ref.hostname, attempt: attempt.number, ...(attempt.restarts > 0 && { restart: attempt.restarts }) };
}

/** `demo_www.example.com_3` (`_3-r1` once restarted): which app, which domain, which attempt, at a glance in the Step Functions console view */
export function executionName({ app, hostname, attempt, restart }: IssuanceInput): string {
  const suffix = `_${attempt}${restart ? `-r${restart}` : ''}`;
  const name = `${app}_${hostname}`.replace(/[^A-Za-z0-9._-]/g, '-');
  return name.slice(0, MAX_EXECUTION_NAME - suffix.length) + suffix;
}
