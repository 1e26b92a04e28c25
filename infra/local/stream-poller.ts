// Lambda's DynamoDB Streams event source, for the local cloud: reads DynamoDB Local's
// stream and hands each batch of records to the projector handler, in order per shard.
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';

export type StreamConsumer = (event: DynamoDBStreamEvent) => Promise<unknown>;

const POLL_INTERVAL_MS = 50;

export interface StreamPoller {
  /** Resolves once a pass over every shard found nothing left to deliver: the projection has caught up. */
  caughtUp(): Promise<void>;
  /** Something was appended: look now rather than at the next poll. */
  wake(): void;
  stop(): Promise<void>;
}

export function pollStream(client: DynamoDBStreamsClient, streamArn: string, consume: StreamConsumer): StreamPoller {
  const iterators = new Map<string, string | undefined>();
  let stopped = false;

  async function discoverShards(): Promise<void> {
    const { StreamDescription } = await client.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    for (const shard of StreamDescription?.Shards ?? []) {
      if (!shard.ShardId || iterators.has(shard.ShardId)) continue;
      const { ShardIterator } = await client.send(
        new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
      );
      iterators.set(shard.ShardId, ShardIterator);
    }
  }

  /** How many records the pass delivered. */
  async function drainShards(): Promise<number> {
    let delivered = 0;
    for (const [shardId, iterator] of iterators) {
      if (!iterator) continue;
      const { Records = [], NextShardIterator } = await client.send(new GetRecordsCommand({ ShardIterator: iterator }));
      iterators.set(shardId, NextShardIterator);
      if (Records.length > 0) await deliver(Records);
      delivered += Records.length;
    }
    return delivered;
  }
  let waitingForIdle: Array<() => void> = [];
  let wakeUp: (() => void) | undefined;
  let woken = false;
  /** The poll interval, cut short by `wake`; a wake during a pass makes the next pass start at once. */
  const pause = () =>
    woken
      ? Promise.resolve((woken = false))
      : new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, POLL_INTERVAL_MS);
          wakeUp = () => {
            clearTimeout(timer);
            resolve();
          };
        }).finally(() => (wakeUp = undefined));

  async function deliver(records: _Record[]): Promise<void> {
    // At least once, like Lambda: a failed batch is retried until it goes through.
    for (;;) {
      try {
        const response = (await consume({ Records: records } as DynamoDBStreamEvent)) as DynamoDBBatchResponse | undefined;
        if (!response?.batchItemFailures?.length) return;
        throw new Error(`${response.batchItemFailures.length} stream(s) not projected`);
      } catch (error) {
        if (stopped) return;
        console.error(`projector failed, retrying: ${String(error)}`);
        await sleep(POLL_INTERVAL_MS * 10);
      }
    }
  }

  const loop = (async () => {
    while (!stopped) {
      try {
        await discoverShards();
        if ((await drainShards()) === 0) {
          for (const resolve of waitingForIdle) resolve();
          waitingForIdle = [];
        }
      } catch (error) {
        if (!stopped) console.error(`stream poll failed: ${String(error)}`);
      }
      await pause();
    }
  })();

  return {
    caughtUp: () => new Promise((resolve) => waitingForIdle.push(resolve)),
    wake: () => {
      if (wakeUp) wakeUp();
      else woken = true;
    },
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
