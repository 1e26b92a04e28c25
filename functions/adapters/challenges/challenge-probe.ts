import type { ChallengeResponse } from '../../domain/self-check.ts';

/** The port: fetches a challenge URL through the domain, the way the CA will. */
export interface ChallengeProbe {
  /** Rejects when nothing answers at the address (refused, reset, timed out). */
  fetch(address: string, hostname: string, token: string): Promise<ChallengeResponse>;
}
