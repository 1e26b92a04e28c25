import type { IssuanceInput } from '../../domain/issuance.ts';

/** The port: starts a domain's issuance workflow. Starting the same attempt twice starts it once. */
export interface Workflows {
  startIssuance(input: IssuanceInput): Promise<{ executionName: string }>;
  /** Stops the attempt's execution, if it runs; stopping one that ended is no error. */
  stopIssuance(input: IssuanceInput): Promise<void>;
  /** Whether the execution this input names is running now (not absent, not ended). */
  isRunning(input: IssuanceInput): Promise<boolean>;
}
