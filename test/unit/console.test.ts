// The console's pure parts: the graph layout of a state machine, each state's visits read
// from the runner's event log, and secrets taken out of what the page is sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { executionSteps, withoutSecrets } from '../../infra/local/console/executions.ts';
import { layoutStateMachine } from '../../infra/local/console/graph.ts';

const definition = {
  StartAt: 'Check',
  States: {
    Check: { Type: 'Task', Next: 'Ready?', Catch: [{ Next: 'Record' }] },
    'Ready?': { Type: 'Choice', Choices: [{ Next: 'Done' }], Default: 'Wait' },
    Wait: { Type: 'Wait', Next: 'Check' },
    Record: { Type: 'Task', End: true },
    Done: { Type: 'Succeed' },
  },
};

test('the graph follows Next, Choices, Default and Catch from StartAt, top to bottom, loops marked', () => {
  const graph = layoutStateMachine(definition);
  const layer = Object.fromEntries(graph.nodes.map((node) => [node.name, node.layer]));
  assert.deepEqual(layer, { Check: 0, 'Ready?': 1, Record: 1, Done: 2, Wait: 2 });
  const edges = graph.edges.map((edge) => `${edge.from}>${edge.to}:${edge.kind}${edge.back ? ':back' : ''}`);
  assert.deepEqual(edges, ['Check>Ready?:next', 'Ready?>Done:choice', 'Ready?>Wait:default', 'Wait>Check:next:back', 'Check>Record:catch']);

  // No two boxes overlap, and every line stays inside the picture.
  for (const a of graph.nodes) {
    for (const b of graph.nodes) {
      if (a === b) continue;
      const apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
      assert.ok(apart, `${a.name} and ${b.name} overlap`);
    }
  }
  for (const [x, y] of graph.edges.flatMap((edge) => edge.points)) {
    assert.ok(x >= 0 && x <= graph.width && y >= 0 && y <= graph.height, `(${x}, ${y}) is outside ${graph.width}x${graph.height}`);
  }
  // The loop goes up a lane left of every box, the Catch down one on the right.
  const xs = (from: string, to: string) => graph.edges.find((edge) => edge.from === from && edge.to === to)!.points.map(([x]) => x);
  assert.ok(Math.min(...xs('Wait', 'Check')) < Math.min(...graph.nodes.map((node) => node.x)));
  assert.ok(Math.max(...xs('Check', 'Record')) > Math.max(...graph.nodes.map((node) => node.x + node.width)));
});

test("each state's visits: succeeded, retried, caught into the next state, or running", () => {
  const at = (second: number) => Date.parse('2026-12-01T10:00:00.000Z') + second * 1000;
  const state = (name: string, type = 'Task', extra: object = {}) => ({ state: { name, type, input: { n: name }, ...extra } });
  const steps = executionSteps([
    { type: 'ExecutionStarted', timestamp: at(0), input: {} },
    { type: 'StateEntered', timestamp: at(0), ...state('Check') },
    { type: 'StateFailed', timestamp: at(1), ...state('Check'), Error: 'ServiceError', Cause: new Error('the CA answered 503') },
    { type: 'StateRetried', timestamp: at(2), ...state('Check'), retry: { attempt: 1 } },
    { type: 'StateExited', timestamp: at(3), ...state('Check', 'Task', { output: { ok: true } }) },
    { type: 'StateEntered', timestamp: at(3), ...state('Check') },
    { type: 'StateFailed', timestamp: at(4), ...state('Check'), Error: 'DnsCheckFailedError', Cause: 'not pointed' },
    { type: 'StateCaught', timestamp: at(4), ...state('Check'), catch: { catcher: { ErrorEquals: ['States.ALL'], Next: 'Record' } } },
    { type: 'StateExited', timestamp: at(4), ...state('Check', 'Task', { output: { error: {} } }) },
    { type: 'StateEntered', timestamp: at(5), ...state('Record') },
  ]);
  assert.deepEqual(
    steps.map((step) => [step.name, step.status, step.retries, step.caughtTo]),
    [
      ['Check', 'succeeded', 1, undefined],
      ['Check', 'caught', 0, 'Record'],
      ['Record', 'running', 0, undefined],
    ],
  );
  assert.deepEqual(steps[0]!.error, { error: 'ServiceError', cause: 'the CA answered 503' });
  assert.deepEqual(
    [steps[0]!.enteredAt, steps[0]!.exitedAt, steps[0]!.output],
    ['2026-12-01T10:00:00.000Z', '2026-12-01T10:00:03.000Z', { ok: true }],
  );
  assert.equal(steps[2]!.exitedAt, undefined);
});

test('what the page is sent has no secret-looking field and no PEM private key', () => {
  // A key made now: none is committed.
  const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const cleaned = withoutSecrets({
    hostname: 'www.example.com',
    privateKeyPem: pem,
    certificate: { accountKey: 'k', chain: `-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n${pem}` },
    steps: [{ note: `key: ${pem}`, password: 'p' }],
    error: new Error(`failed with ${pem}`),
  });
  assert.doesNotMatch(JSON.stringify(cleaned), /PRIVATE KEY|privateKey|accountKey|password/);
  assert.deepEqual(cleaned, {
    hostname: 'www.example.com',
    certificate: { chain: '-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n[private key redacted]\n' },
    steps: [{ note: 'key: [private key redacted]\n' }],
    error: { name: 'Error', message: 'failed with [private key redacted]\n' },
  });
});
