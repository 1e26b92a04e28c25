// The CDK stack synthesizes, holds the resources the service needs, and its state
// machine definition is valid ASL with the states operators read.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import validateAsl from 'asl-validator';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { API_ROUTES } from '../../infra/api-routes.ts';
import { synthesize, type Synthesized } from '../../infra/local/synthesized.ts';
import { ISSUANCE_STEPS } from '../../infra/workflows/issuance.ts';

let synthesized: Synthesized;
let template: Template;
before(() => {
  synthesized = synthesize();
  template = Template.fromJSON(synthesized.template);
});

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

test('every function is Node 22 on arm64: one per step, per API group, the projector, platform events and the sweep', () => {
  const functions = template.findResources('AWS::Lambda::Function');
  const expected = Object.keys(ISSUANCE_STEPS).length + new Set(API_ROUTES.map((route) => route.handler)).size + 3;
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

test('the projector reads the event stream; the platform rule targets DomainAdded', () => {
  template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
    StartingPosition: 'TRIM_HORIZON',
    FunctionResponseTypes: ['ReportBatchItemFailures'],
  });
  template.hasResourceProperties('AWS::Events::Rule', {
    EventPattern: { source: ['platform'], 'detail-type': ['DomainAdded'] },
    Targets: Match.anyValue(),
  });
});

test('every API route is a method on the REST API', () => {
  const methods = Object.values(template.findResources('AWS::ApiGateway::Method')).map(({ Properties }) => Properties.HttpMethod);
  assert.equal(methods.length, API_ROUTES.length);
});

test('grants are least privilege: only FinalizeAndInstall may import into ACM', () => {
  const policies = template.findResources('AWS::IAM::Policy');
  const importers = Object.entries(policies)
    .filter(([, { Properties }]) => JSON.stringify(Properties.PolicyDocument).includes('acm:ImportCertificate'))
    .map(([id]) => id);
  assert.equal(importers.length, 1);
  assert.match(importers[0]!, /^StepFinalizeAndInstall/);
  const checkDnsPolicy = Object.entries(policies).find(([id]) => id.startsWith('StepCheckDns'));
  assert.ok(checkDnsPolicy);
  assert.ok(!JSON.stringify(checkDnsPolicy[1]).includes('secretsmanager'), 'CheckDns must not read the ACME account key');
});
