// The CDK stack synthesizes, holds the resources the service needs, and its state
// machine definition is valid ASL with the states operators read.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import validateAsl from 'asl-validator';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { API_ROUTES } from '../../infra/api-routes.ts';
import { synthesize, type Synthesized } from '../../infra/local/synthesized.ts';
import { CertificateAutomationStack } from '../../infra/stack.ts';
import { ISSUANCE_STEPS } from '../../infra/workflows/issuance.ts';

const DATABASE_HOST_SUFFIX = 'db.example.test';
const DATABASE_ZONE_ID = 'Z0123456789TESTZONE';
const SECRET_PREFIX = 'acm-automation/databases/';

let synthesized: Synthesized;
let template: Template;
/** The stack with known database props, for the grants that name them. */
let databaseTemplate: Template;
before(() => {
  synthesized = synthesize();
  template = Template.fromJSON(synthesized.template);
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new CertificateAutomationStack(app, 'Databases', {
    dnsTargetSuffix: 'edge.example.test',
    databaseHostSuffix: DATABASE_HOST_SUFFIX,
    databaseHostedZoneId: DATABASE_ZONE_ID,
  });
  databaseTemplate = Template.fromStack(stack);
});

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** Every statement of the functions' role policies, with the function it belongs to. */
function statements(from: Template): { holder: string; statement: Statement }[] {
  return Object.entries(from.findResources('AWS::IAM::Policy')).flatMap(([id, { Properties }]) =>
    (Properties.PolicyDocument.Statement as Statement[]).map((statement) => ({
      holder: id.replace(/ServiceRoleDefaultPolicy.*$/, ''),
      statement,
    })),
  );
}

const actions = (statement: Statement) => [statement.Action].flat();

/** An ARN as text: Fn::Join flattened, Ref and Fn::GetAtt as `${...}`. */
function arnText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(arnText).join(',');
  const node = value as Record<string, unknown>;
  if ('Fn::Join' in node) {
    const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map(arnText).join(separator);
  }
  if ('Ref' in node) return `\${${String(node.Ref)}}`;
  if ('Fn::GetAtt' in node) return `\${${(node['Fn::GetAtt'] as string[]).join('.')}}`;
  return JSON.stringify(value);
}

function functionEnvironment(from: Template, logicalIdPrefix: string): Record<string, unknown> {
  const [, fn] =
    Object.entries(from.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith(logicalIdPrefix)) ??
    assert.fail(logicalIdPrefix);
  return fn.Properties.Environment.Variables;
}

test('the event log is keyed (streamId, version) and streams new images', () => {
  template.hasResourceProperties('AWS::DynamoDB::Table', {
    KeySchema: [
      { AttributeName: 'streamId', KeyType: 'HASH' },
      { AttributeName: 'version', KeyType: 'RANGE' },
    ],
    StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
  });
  template.hasResourceProperties('AWS::DynamoDB::Table', { TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true } });
  template.resourceCountIs('AWS::DynamoDB::Table', 3);
});

test('every function is Node 22 on arm64: one per step, per API group, the authorizer, projector, platform events and sweep', () => {
  const functions = template.findResources('AWS::Lambda::Function');
  const expected = Object.keys(ISSUANCE_STEPS).length + new Set(API_ROUTES.map((route) => route.handler)).size + 4;
  assert.equal(Object.keys(functions).length, expected);
  for (const { Properties } of Object.values(functions)) {
    assert.equal(Properties.Runtime, 'nodejs22.x');
    assert.deepEqual(Properties.Architectures, ['arm64']);
  }
});

test('the issuance state machine is Standard, valid ASL, with readable states', () => {
  template.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineType: 'STANDARD' });
  const result = validateAsl(synthesized.issuanceDefinition);
  assert.ok(result.isValid, result.errorsText());
  const states = Object.keys((synthesized.issuanceDefinition as { States: object }).States);
  for (const name of [
    ...Object.keys(ISSUANCE_STEPS),
    'WaitForValidation',
    'WaitBeforeRetry',
    'WaitForRateLimitToEnd',
    'SpreadRenewals',
    'Issued',
    'Failed',
  ]) {
    assert.ok(states.includes(name), `missing state ${name}`);
  }
  assert.equal((synthesized.issuanceDefinition as { StartAt: string }).StartAt, 'StartLater?');
});

test("the projector reads the event stream; the platform's events reach their handler", () => {
  template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
    StartingPosition: 'TRIM_HORIZON',
    FunctionResponseTypes: ['ReportBatchItemFailures'],
  });
  const rules = Object.values(template.findResources('AWS::Events::Rule')).filter(
    ({ Properties }) => JSON.stringify(Properties.EventPattern?.source) === '["platform"]',
  );
  assert.equal(rules.length, 1);
  const [rule] = rules;
  assert.ok(rule!.Properties.Targets?.length, 'the platform rule has a target');
  assert.deepEqual([...rule!.Properties.EventPattern['detail-type']].sort(), [
    'AppDeleted',
    'DatabaseAdded',
    'DatabaseRemoved',
    'DomainAdded',
    'DomainRemoved',
  ]);
});

test('every API route is a method on the REST API', () => {
  const methods = Object.values(template.findResources('AWS::ApiGateway::Method')).map(({ Properties }) => Properties.HttpMethod);
  assert.equal(methods.length, API_ROUTES.length);
});

test('grants are least privilege: only FinalizeAndInstall and the certs API import into ACM; only the authorizer reads the token secret', () => {
  const policies = Object.entries(template.findResources('AWS::IAM::Policy'));
  const holders = (text: string) =>
    policies
      .filter(([, { Properties }]) => JSON.stringify(Properties.PolicyDocument).includes(text))
      .map(([id]) => id.replace(/ServiceRoleDefaultPolicy.*$/, ''))
      .sort();
  assert.deepEqual(holders('acm:ImportCertificate'), ['ApiCerts', 'StepFinalizeAndInstall']);
  const tokenSecret = Object.keys(template.findResources('AWS::SecretsManager::Secret')).find((id) => id.startsWith('ApiTokenSecret'))!;
  assert.deepEqual(holders(tokenSecret), ['ApiAuthorizer']);
  assert.ok(!holders('AcmeAccountKey').includes('StepCheckDns'), 'CheckDns must not read the ACME account key');
});

test('every route but the challenge and the contract needs the token authorizer', () => {
  const methods = Object.values(template.findResources('AWS::ApiGateway::Method')).map(({ Properties }) => Properties);
  const open = methods.filter((method) => method.AuthorizationType !== 'CUSTOM').length;
  assert.equal(open, API_ROUTES.filter((route) => !route.auth).length);
  assert.equal(open, 2);
});

test("databases' DNS-01: only the steps that publish or remove the answer change the platform's zone, and only _acme-challenge TXT records", () => {
  const all = statements(databaseTemplate);
  const changes = all.filter(({ statement }) => actions(statement).some((action) => action.startsWith('route53:Change')));
  assert.deepEqual(changes.map(({ holder }) => holder).sort(), ['StepAskCaToValidate', 'StepCheckValidation', 'StepCreateOrder']);
  for (const { statement } of changes) {
    assert.deepEqual(actions(statement), ['route53:ChangeResourceRecordSets']);
    assert.match(arnText(statement.Resource), new RegExp(`^arn:\\$\\{AWS::Partition\\}:route53:::hostedzone/${DATABASE_ZONE_ID}$`));
    assert.deepEqual(statement.Condition?.['ForAllValues:StringEquals']?.['route53:ChangeResourceRecordSetsRecordTypes'], ['TXT']);
    assert.deepEqual(statement.Condition?.['ForAllValues:StringLike']?.['route53:ChangeResourceRecordSetsNormalizedRecordNames'], [
      `_acme-challenge.*.${DATABASE_HOST_SUFFIX}`,
    ]);
  }
  const getChange = all.filter(({ statement }) => actions(statement).includes('route53:GetChange'));
  assert.deepEqual(getChange.map(({ holder }) => holder).sort(), ['StepAskCaToValidate', 'StepCheckValidation', 'StepCreateOrder']);
  for (const { statement } of getChange) assert.match(arnText(statement.Resource), /:route53:::change\/\*$/);
  assert.ok(
    all.every(
      ({ statement }) =>
        !actions(statement).some(
          (action) => action.startsWith('route53:') && !/^route53:(ChangeResourceRecordSets|GetChange)$/.test(action),
        ),
    ),
    'no other Route 53 action',
  );
  for (const step of ['StepCreateOrder', 'StepAskCaToValidate', 'StepCheckValidation']) {
    assert.equal(functionEnvironment(databaseTemplate, step).DATABASE_HOSTED_ZONE_ID, DATABASE_ZONE_ID);
    assert.equal(functionEnvironment(databaseTemplate, step).DATABASE_HOST_SUFFIX, DATABASE_HOST_SUFFIX);
  }
  assert.equal(functionEnvironment(databaseTemplate, 'StepCheckDns').DATABASE_HOSTED_ZONE_ID, undefined);
});

test("databases' secrets: FinalizeAndInstall, the databases API and PlatformEvents write them under the prefix, and no function reads one", () => {
  const all = statements(databaseTemplate);
  const writers = all.filter(({ statement }) => actions(statement).includes('secretsmanager:CreateSecret'));
  assert.deepEqual(writers.map(({ holder }) => holder).sort(), ['ApiDatabases', 'PlatformEvents', 'StepFinalizeAndInstall']);
  for (const { statement } of writers) {
    assert.match(
      arnText(statement.Resource),
      new RegExp(`:secretsmanager:\\$\\{AWS::Region\\}:\\$\\{AWS::AccountId\\}:secret:${SECRET_PREFIX}\\*$`),
    );
    for (const action of ['PutSecretValue', 'TagResource', 'DeleteSecret', 'DescribeSecret']) {
      assert.ok(actions(statement).includes(`secretsmanager:${action}`), `missing secretsmanager:${action}`);
    }
    assert.ok(!actions(statement).includes('secretsmanager:GetSecretValue'));
  }
  const onPrefix = all.filter(({ statement }) => arnText(statement.Resource).includes(SECRET_PREFIX));
  assert.ok(
    onPrefix.every(
      ({ statement }) => !actions(statement).some((action) => action === 'secretsmanager:GetSecretValue' || action === 'secretsmanager:*'),
    ),
    "no function may read a database's key back",
  );
  const putsEvents = all.filter(
    ({ statement }) => actions(statement).includes('events:PutEvents') && arnText(statement.Resource).endsWith(':event-bus/default'),
  );
  for (const holder of ['ApiDatabases', 'PlatformEvents', 'StepFinalizeAndInstall']) {
    assert.ok(
      putsEvents.some((grant) => grant.holder === holder),
      `${holder} puts events on the bus`,
    );
    assert.equal(functionEnvironment(databaseTemplate, holder).DATABASE_SECRET_PREFIX, SECRET_PREFIX);
  }
  assert.ok(
    putsEvents.some((grant) => grant.holder === 'ProjectStatus'),
    'the projector tells the edge of TLS policy changes on the bus',
  );
});

test('DatabaseHostSecretRead lets a host role read only the secret tagged with its own app and database, and is an output', () => {
  const policies = Object.entries(databaseTemplate.findResources('AWS::IAM::ManagedPolicy')).filter(([id]) =>
    id.startsWith('DatabaseHostSecretRead'),
  );
  assert.equal(policies.length, 1);
  const [[id, { Properties }]] = policies as [[string, { Properties: { PolicyDocument: { Statement: Statement[] } } }]];
  assert.equal(Properties.PolicyDocument.Statement.length, 1);
  const [statement] = Properties.PolicyDocument.Statement;
  assert.equal(statement!.Effect, 'Allow');
  assert.deepEqual(actions(statement!), ['secretsmanager:GetSecretValue']);
  assert.match(arnText(statement!.Resource), new RegExp(`:secret:${SECRET_PREFIX}\\*$`));
  assert.deepEqual(statement!.Condition?.StringEquals, {
    'secretsmanager:ResourceTag/app': '${aws:PrincipalTag/app}',
    'secretsmanager:ResourceTag/database': '${aws:PrincipalTag/database}',
  });
  const outputs = Object.values(databaseTemplate.findOutputs('*'));
  assert.ok(
    outputs.some((output) => JSON.stringify(output.Value) === JSON.stringify({ Ref: id }) && output.Export),
    'the policy ARN is an exported output',
  );
});

test("executions are described and stopped by their own ARNs: the state machine's name, under :execution:", () => {
  const onExecutions = statements(databaseTemplate).filter(({ statement }) =>
    actions(statement).some((action) => action === 'states:DescribeExecution' || action === 'states:StopExecution'),
  );
  assert.ok(
    onExecutions.some(({ holder }) => holder.startsWith('Sweep')),
    'the reconciler may describe executions',
  );
  for (const { holder, statement } of onExecutions) {
    assert.match(arnText(statement.Resource), /:states:\$\{AWS::Region\}:\$\{AWS::AccountId\}:execution:Databases-issuance:\*$/, holder);
  }
});

test('operators are paged on one topic: failed executions, dead letters, every function erroring, a certificate under 14 days, projector lag', () => {
  template.resourceCountIs('AWS::SNS::Topic', 1);
  const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(({ Properties }) => Properties);
  const named = (metricName: string) => alarms.filter((alarm) => alarm.MetricName === metricName);
  assert.equal(named('ExecutionsFailed').length, 1);
  assert.equal(named('ApproximateNumberOfMessagesVisible').length, 1);
  const functions = Object.keys(template.findResources('AWS::Lambda::Function')).filter((id) => !id.startsWith('LogRetention'));
  assert.ok(named('Errors').length >= functions.length - 1, `${named('Errors').length} error alarms for ${functions.length} functions`);
  const expiry = named('DaysToExpiry');
  assert.deepEqual(
    expiry.map((alarm) => [alarm.Namespace, alarm.Statistic, alarm.Threshold, alarm.ComparisonOperator]),
    [['AcmAutomation', 'Minimum', 14, 'LessThanThreshold']],
  );
  assert.deepEqual(
    named('IteratorAge').map((alarm) => alarm.Threshold),
    [300_000],
  );
  for (const alarm of alarms) assert.equal(alarm.AlarmActions?.length, 1, `${alarm.MetricName} pages the topic`);
  // X-Ray on every function, as on the state machine.
  for (const [id, { Properties }] of Object.entries(template.findResources('AWS::Lambda::Function'))) {
    assert.deepEqual(Properties.TracingConfig, { Mode: 'Active' }, id);
  }
});
