import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
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
    try {
      const executionArn = this.executionArn(input);
      await this.client.send(new StopExecutionCommand({ executionArn, cause: 'The domain was removed or automation turned off' }));
    } catch (error) {
      if (!(error instanceof ExecutionDoesNotExist)) throw error;
    }
  }

  async isRunning(input: IssuanceInput): Promise<boolean> {
    try {
      const { status } = await this.client.send(new DescribeExecutionCommand({ executionArn: this.executionArn(input) }));
      return status === 'RUNNING';
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) return false;
      throw error;
    }
  }

  /** An execution's ARN is its state machine's, with `execution` and its name. */
  private executionArn(input: IssuanceInput): string {
    return `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName(input)}`;
  }
}
