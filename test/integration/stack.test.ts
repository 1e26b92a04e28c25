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
  template.hasResourceProperties('AWS::Events::Rule', {
    EventPattern: { source: ['platform'], 'detail-type': ['DomainAdded', 'DomainRemoved', 'AppDeleted'] },
    Targets: Match.anyValue(),
  });
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
