// DynamoDB Local as the launcher starts it: streams work, it listens on loopback only,
// stop() leaves no process or port behind, and a failed start says why.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../infra/local/dynamodb-local.ts';

const clientConfig = (endpoint: string) => ({
  endpoint,
  region: 'local',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});

describe('startDynamoDbLocal', () => {
  let db: DynamoDbLocal;
  before(async () => {
    db = await startDynamoDbLocal();
  });
  after(() => db?.stop()); // db is unset if before() failed

  it('serves a table whose stream records new images', async () => {
    const dynamo = new DynamoDBClient(clientConfig(db.endpoint));
    const streams = new DynamoDBStreamsClient(clientConfig(db.endpoint));
    try {
      const { TableDescription } = await dynamo.send(
        new CreateTableCommand({
          TableName: 'certificates',
          AttributeDefinitions: [{ AttributeName: 'domain', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'domain', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
          StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
        }),
      );
      const StreamArn = TableDescription?.LatestStreamArn;
      assert.ok(StreamArn, 'table has a stream');

      const item = { domain: { S: 'shop.example.com' }, status: { S: 'PENDING_VALIDATION' } };
      await dynamo.send(new PutItemCommand({ TableName: 'certificates', Item: item }));

      const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn }));
      const ShardId = StreamDescription?.Shards?.[0]?.ShardId;
      assert.ok(ShardId, 'stream has a shard');
      const { ShardIterator } = await streams.send(new GetShardIteratorCommand({ StreamArn, ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
      const { Records } = await streams.send(new GetRecordsCommand({ ShardIterator }));

      assert.deepEqual(
        Records?.map((record) => ({ event: record.eventName, newImage: record.dynamodb?.NewImage })),
        [{ event: 'INSERT', newImage: item }],
      );
    } finally {
      dynamo.destroy();
      streams.destroy();
    }
  });

  it('listens on 127.0.0.1 only', () => {
    assert.equal(db.endpoint, `http://127.0.0.1:${db.port}`);
    assert.deepEqual(
      listenersOn(db.port).map((listener) => listener.address),
      ['127.0.0.1'],
    );
  });

  it('stop() ends the java process and frees the port', async () => {
    const [listener] = listenersOn(db.port);
    assert.ok(listener);
    const pid = pidOwningSocket(listener.inode);
    assert.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /LoopbackDynamoDbLocal\.java/);

    await db.stop();

    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
    assert.deepEqual(listenersOn(db.port), []);
    await listenBriefly(db.port);
  });
});

describe('startDynamoDbLocal on a taken port', () => {
  it('rejects with the java output explaining why', async () => {
    const squatter = net.createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => squatter.once('listening', resolve));
    const { port } = squatter.address() as net.AddressInfo;
    try {
      await assert.rejects(
        startDynamoDbLocal({ port }),
        /DynamoDB Local failed to start: java exited early \(exit code 1\)[\s\S]*Address already in use/,
      );
    } finally {
      squatter.close();
    }
  });
});

interface Listener {
  address: string;
  inode: string;
}

/** TCP sockets in LISTEN state on `port`, read from the kernel's tables for IPv4 and IPv6. */
function listenersOn(port: number): Listener[] {
  const LISTEN = '0A';
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((table) =>
    readFileSync(table, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      // Columns: sl, local_address, rem_address, st, tx_queue:rx_queue, tr:tm->when, retrnsmt, uid, timeout, inode, ...
      .map((row) => row.trim().split(/\s+/))
      .filter(([, local, , state]) => state === LISTEN && local?.endsWith(`:${hex4(port)}`))
      .map(([, local, , , , , , , , inode]) => ({ address: decodeAddress(local!.split(':')[0]!), inode: inode! })),
  );
}

function hex4(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}

/** The kernel prints each 32-bit word of an address in host byte order (little-endian here). */
function decodeAddress(hex: string): string {
  const bytes = Buffer.concat(hex.match(/.{8}/g)!.map((word) => Buffer.from(word, 'hex').reverse()));
  return bytes.length === 4 ? bytes.join('.') : bytes.toString('hex').replace(/(.{4})(?!$)/g, '$1:');
}

function pidOwningSocket(inode: string): number {
  const target = `socket:[${inode}]`;
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      if (readdirSync(`/proc/${pid}/fd`).some((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`) === target)) {
        return Number(pid);
      }
    } catch {
      // Processes we may not inspect, or that exited meanwhile.
    }
  }
  throw new Error(`no process owns ${target}`);
}

async function listenBriefly(port: number): Promise<void> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  await new Promise((resolve) => server.close(resolve));
}
