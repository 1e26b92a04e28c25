// What the handlers log is structured JSON with a level and the correlation id of what
// was handled (Powertools' Logger, set up once in functions/handlers/observability.ts),
// read from a local cloud process's own output.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCloudProcess } from '../support/cloud-process.ts';

const dataDir = await mkdtemp(join(tmpdir(), 'local-cloud-logs-'));
const cloud = startCloudProcess({ dataDir, app: 'logs', hostnames: [] });
after(async () => {
  cloud.kill();
  await cloud.exited;
  await rm(dataDir, { recursive: true, force: true });
});

test("a dropped platform event is logged as one JSON line: level, service, the event's correlation id, why", async () => {
  const { apiUrl } = await cloud.ready;
  const response = await fetch(`${apiUrl}/local/platform-events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ 'detail-type': 'DomainAdded', detail: { eventId: 'log-1', app: 'logs', hostname: '*.logs.test' } }),
  });
  assert.equal(response.status, 202);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const lines = cloud.output.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
  const dropped = lines.find((line) => line.correlation_id === 'platform:log-1');
  assert.ok(dropped, cloud.output.join('\n'));
  assert.equal(dropped.level, 'WARN');
  assert.equal(dropped.service, 'acm-automation');
  assert.equal(dropped.message, 'platform event dropped');
  assert.equal(dropped.dropped, 'hostname: wildcard domains are not supported');
});

test('what the log records is counted: a failure adds an IssuanceFailures EMF line with its reason', async () => {
  const { apiUrl, operatorToken } = await cloud.ready;
  // Pointed nowhere: the DNS pre-flight fails it, with a reason.
  const added = await fetch(`${apiUrl}/apps/logs/domains`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${operatorToken}` },
    body: JSON.stringify({ hostname: 'nowhere.logs.test' }),
  });
  assert.equal(added.status, 201);
  const emf = async () => {
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
      const found = cloud.output
        .filter((line) => line.startsWith('{') && line.includes('"IssuanceFailures"'))
        .map((line) => JSON.parse(line) as Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<{ Namespace: string }> } });
      if (found.length > 0) return found[0]!;
    }
    assert.fail(cloud.output.join('\n'));
  };
  const line = await emf();
  assert.equal(line._aws.CloudWatchMetrics[0]!.Namespace, 'AcmAutomation');
  assert.equal(line.IssuanceFailures, 1);
  assert.equal(line.reason, 'NXDOMAIN');
});
