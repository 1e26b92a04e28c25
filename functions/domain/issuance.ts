// What a domain's issuance workflow is started with, and what operators see it named.

/** The state machine's input: names only, never a key or a secret. */
export interface IssuanceInput {
  app: string;
  hostname: string;
  attempt: number;
  /** Renewals found together start spread out (jitter), so the CA sees no burst. */
  startDelaySeconds?: number;
}

const MAX_EXECUTION_NAME = 80;

/** `demo_www.example.com_3`: which app, which domain, which attempt, at a glance in the console. */
export function executionName({ app, hostname, attempt }: IssuanceInput): string {
  const suffix = `_${attempt}`;
  const name = `${app}_${hostname}`.replace(/[^A-Za-z0-9._-]/g, '-');
  return name.slice(0, MAX_EXECUTION_NAME - suffix.length) + suffix;
}
