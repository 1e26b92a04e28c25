// The event store against DynamoDB Local: versions without gaps, one transaction for
// several events, and a typed conflict when two writers append at the same version.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbEventStore } from '../../functions/adapters/event-store/dynamodb-event-store.ts';
import type { AppendContext } from '../../functions/adapters/event-store/event-store.ts';
import { ConcurrencyError } from '../../functions/domain/errors.ts';
import type { DomainEvent, StreamEvent } from '../../functions/domain/events.ts';
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

const write = (streamId: string, expectedVersion: number, events: StreamEvent[], appendContext: AppendContext = context) =>
  store.append([{ streamId, expectedVersion, events }], appendContext);

test('appends one event, then several in one go, with gapless versions and the envelope', async () => {
  await write('domain#a#www.a.test', 0, [added], context);
  const appended = await write('domain#a#www.a.test', 1, [requested(1), { type: 'DnsVerified', data: { attempt: 1, answers: [] } }], {
    ...context,
    causationId: 'step-1',
  });
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
  await write('domain#a#race.a.test', 0, [added], context);
  await write('domain#a#race.a.test', 1, [requested(1)], context);
  await assert.rejects(write('domain#a#race.a.test', 1, [requested(2)], context), ConcurrencyError);
  // A transaction that collides on its first event writes none of its events.
  await assert.rejects(write('domain#a#race.a.test', 1, [requested(2), requested(3)], context), ConcurrencyError);
  assert.equal((await store.read('domain#a#race.a.test')).length, 2);
});

test('of two concurrent appends at the same version exactly one wins', async () => {
  await write('domain#a#both.a.test', 0, [added], context);
  const results = await Promise.allSettled([
    write('domain#a#both.a.test', 1, [requested(1)], context),
    write('domain#a#both.a.test', 1, [requested(1)], context),
  ]);
  assert.deepEqual(results.map((result) => result.status).sort(), ['fulfilled', 'rejected']);
  assert.equal((await store.read('domain#a#both.a.test')).length, 2);
});

test('several streams change in one transaction, or none does', async () => {
  await write('app#multi', 0, [{ type: 'DomainAttached', data: { hostname: 'www.multi.test' } }]);
  const claim: StreamEvent = { type: 'HostnameClaimed', data: { app: 'multi' } };
  // The app stream is stale (version 0 read, 1 stored): the claim is not written either.
  await assert.rejects(
    store.append(
      [
        { streamId: 'hostname#www.multi.test', expectedVersion: 0, events: [claim] },
        { streamId: 'app#multi', expectedVersion: 0, events: [{ type: 'AcmEnabled', data: {} }] },
      ],
      context,
    ),
    ConcurrencyError,
  );
  assert.deepEqual(await store.read('hostname#www.multi.test'), []);
  const appended = await store.append(
    [
      { streamId: 'hostname#www.multi.test', expectedVersion: 0, events: [claim] },
      { streamId: 'app#multi', expectedVersion: 1, events: [{ type: 'AcmEnabled', data: {} }] },
    ],
    context,
  );
  assert.deepEqual(
    appended.map((event) => [event.streamId, event.version]),
    [
      ['hostname#www.multi.test', 1],
      ['app#multi', 2],
    ],
  );
});

test('reading a stream that does not exist gives no events', async () => {
  assert.deepEqual(await store.read('domain#a#none.a.test'), []);
});
