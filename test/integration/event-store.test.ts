// The event store against DynamoDB Local: versions without gaps, one transaction for
// several events, and a typed conflict when two writers append at the same version.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbEventStore } from '../../functions/adapters/event-store/dynamodb-event-store.ts';
import { ConcurrencyError } from '../../functions/domain/errors.ts';
import type { DomainEvent } from '../../functions/domain/events.ts';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../infra/local/dynamodb-local.ts';
import { synthesize } from '../../infra/local/synthesized.ts';

let dynamodb: DynamoDbLocal;
let store: DynamoDbEventStore;
const context = { at: '2026-11-22T10:00:00.000Z', correlationId: 'exec-1' };
const added: DomainEvent = { type: 'DomainAdded', data: { app: 'a', hostname: 'www.a.test', dnsTarget: 'a.edge.test' } };
const requested = (attempt: number): DomainEvent => ({ type: 'IssuanceRequested', data: { attempt, trigger: 'domain-added' } });

before(async () => {
  dynamodb = await startDynamoDbLocal();
  const client = new DynamoDBClient({
    endpoint: dynamodb.endpoint,
    region: 'local',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  // The table as the stack defines it.
  const [, eventsTable] = Object.entries(synthesize().tables).find(([id]) => id.startsWith('Events')) ?? [];
  assert.ok(eventsTable);
  await client.send(new CreateTableCommand({ ...eventsTable, TableName: 'events' }));
  store = new DynamoDbEventStore(client, 'events');
});
after(() => dynamodb.stop());

test('appends one event, then several in one go, with gapless versions and the envelope', async () => {
  await store.append('domain#a#www.a.test', 0, [added], context);
  const appended = await store.append(
    'domain#a#www.a.test',
    1,
    [requested(1), { type: 'DnsVerified', data: { attempt: 1, answers: [] } }],
    {
      ...context,
      causationId: 'step-1',
    },
  );
  assert.deepEqual(
    appended.map((event) => event.version),
    [2, 3],
  );
  const read = await store.read('domain#a#www.a.test');
  assert.deepEqual(
    read.map((event) => [event.version, event.type]),
    [
      [1, 'DomainAdded'],
      [2, 'IssuanceRequested'],
      [3, 'DnsVerified'],
    ],
  );
  assert.deepEqual(read[1], {
    ...requested(1),
    streamId: 'domain#a#www.a.test',
    version: 2,
    at: context.at,
    schemaVersion: 1,
    correlationId: 'exec-1',
    causationId: 'step-1',
  });
});

test('a writer that read an old version gets a ConcurrencyError and nothing is written', async () => {
  await store.append('domain#a#race.a.test', 0, [added], context);
  await store.append('domain#a#race.a.test', 1, [requested(1)], context);
  await assert.rejects(store.append('domain#a#race.a.test', 1, [requested(2)], context), ConcurrencyError);
  // A transaction that collides on its first event writes none of its events.
  await assert.rejects(store.append('domain#a#race.a.test', 1, [requested(2), requested(3)], context), ConcurrencyError);
  assert.equal((await store.read('domain#a#race.a.test')).length, 2);
});

test('of two concurrent appends at the same version exactly one wins', async () => {
  await store.append('domain#a#both.a.test', 0, [added], context);
  const results = await Promise.allSettled([
    store.append('domain#a#both.a.test', 1, [requested(1)], context),
    store.append('domain#a#both.a.test', 1, [requested(1)], context),
  ]);
  assert.deepEqual(results.map((result) => result.status).sort(), ['fulfilled', 'rejected']);
  assert.equal((await store.read('domain#a#both.a.test')).length, 2);
});

test('reading a stream that does not exist gives no events', async () => {
  assert.deepEqual(await store.read('domain#a#none.a.test'), []);
});
