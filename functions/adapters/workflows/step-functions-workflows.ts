import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { executionName, type IssuanceInput } from '../../domain/issuance.ts';
import type { Workflows } from './workflows.ts';

export class StepFunctionsWorkflows implements Workflows {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async startIssuance(input: IssuanceInput): Promise<{ executionName: string }> {
    const name = executionName(input);
    try {
      await this.client.send(new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: JSON.stringify(input) }));
    } catch (error) {
      // The name is per attempt: it already running (or having run) is the idempotent outcome.
      if (!(error instanceof ExecutionAlreadyExists)) throw error;
    }
    return { executionName: name };
  }
}
