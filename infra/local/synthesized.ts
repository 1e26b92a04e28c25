// The local cloud runs what the CDK stack synthesizes: the state machine's ASL and
// the tables' key schemas come from the template, not from a copy kept by hand.
import { App } from 'aws-cdk-lib';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { CertificateAutomationStack } from '../stack.ts';

const STACK_NAME = 'CertificateAutomation';

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
}

export interface Synthesized {
  template: { Resources: Record<string, Resource> };
  /** The issuance state machine's definition, Lambda ARNs resolved to placeholders. */
  issuanceDefinition: Record<string, unknown>;
  /** Table logical id -> CreateTable input (name left for the caller). */
  tables: Record<string, Omit<CreateTableCommandInput, 'TableName'>>;
}

/** The local zone has no Route 53 id: the stack only needs one to scope its grant. */
const LOCAL_HOSTED_ZONE_ID = 'ZLOCALCLOUD';

export function synthesize(dnsTargetSuffix = 'edge.localcloud.test', databaseHostSuffix = 'db.localcloud.test'): Synthesized {
  // No bundling: the local cloud imports the handler files themselves.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  new CertificateAutomationStack(app, STACK_NAME, { dnsTargetSuffix, databaseHostSuffix, databaseHostedZoneId: LOCAL_HOSTED_ZONE_ID });
  const template = app.synth().getStackByName(STACK_NAME).template as Synthesized['template'];
  const resources = Object.entries(template.Resources);
  const [, machine] = resources.find(([, resource]) => resource.Type === 'AWS::StepFunctions::StateMachine') ?? [];
  if (!machine) throw new Error('the stack has no state machine');
  const issuanceDefinition = JSON.parse(resolveIntrinsics(machine.Properties.DefinitionString)) as Record<string, unknown>;
  const tables = Object.fromEntries(
    resources
      .filter(([, resource]) => resource.Type === 'AWS::DynamoDB::Table')
      .map(([id, { Properties: table }]) => [
        id,
        {
          KeySchema: table.KeySchema,
          AttributeDefinitions: table.AttributeDefinitions,
          BillingMode: 'PAY_PER_REQUEST',
          ...(table.GlobalSecondaryIndexes ? { GlobalSecondaryIndexes: table.GlobalSecondaryIndexes } : {}),
          ...(table.StreamSpecification ? { StreamSpecification: { StreamEnabled: true, ...(table.StreamSpecification as object) } } : {}),
        } as Omit<CreateTableCommandInput, 'TableName'>,
      ]),
  );
  return { template, issuanceDefinition, tables };
}

/** Enough of CloudFormation's Fn::Join / Fn::GetAtt / Ref to read the definition. */
function resolveIntrinsics(value: unknown): string {
  if (typeof value === 'string') return value;
  const node = value as Record<string, unknown>;
  if ('Fn::Join' in node) {
    const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map(resolveIntrinsics).join(separator);
  }
  if ('Fn::GetAtt' in node) {
    const [logicalId] = node['Fn::GetAtt'] as [string];
    return `arn:aws:lambda:local:000000000000:function:${logicalId}`;
  }
  if ('Ref' in node) return `local-${String(node.Ref)}`;
  throw new Error(`unsupported intrinsic in the state machine definition: ${JSON.stringify(value)}`);
}
