import { ExecutionAlreadyExists, ExecutionDoesNotExist, SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
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

  async stopIssuance(input: IssuanceInput): Promise<void> {
    // An execution's ARN is its state machine's, with `execution` and its name.
    const executionArn = `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName(input)}`;
    try {
      await this.client.send(new StopExecutionCommand({ executionArn, cause: 'The domain was removed or automation turned off' }));
    } catch (error) {
      if (!(error instanceof ExecutionDoesNotExist)) throw error;
    }
  }
}
