import type { IssuanceInput } from '../../domain/issuance.ts';

/** The port: starts a domain's issuance workflow. Starting the same attempt twice starts it once. */
export interface Workflows {
  startIssuance(input: IssuanceInput): Promise<{ executionName: string }>;
}
