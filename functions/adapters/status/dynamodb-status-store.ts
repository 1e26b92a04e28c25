// The status projection in DynamoDB, written only by the projector.
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { createHash } from 'node:crypto';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { StatusRow } from '../../domain/status.ts';
import type { StatusStore } from './status-store.ts';

/** The sweep's sparse index (the stack defines it): rows with a `dueAt` only, spread over shards. */
export const DUE_INDEX = 'Due';
/** Enough partitions that a million rows never crowd one; each is queried page by page. */
const DUE_SHARDS = 16;

export class DynamoDbStatusStore implements StatusStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async save(app: string, status: StatusRow, version: number, dueAt?: string): Promise<void> {
    const due = dueAt && { dueAt, dueShard: dueShardOf(app, status.hostname) };
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall({ app, ...status, version, ...due }, { removeUndefinedValues: true }),
          ConditionExpression: 'attribute_not_exists(app) OR version < :version',
          ExpressionAttributeValues: { ':version': { N: String(version) } },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async remove(app: string, hostname: string, version: number): Promise<void> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: { app: { S: app }, hostname: { S: hostname } },
          ConditionExpression: 'attribute_not_exists(app) OR version < :version',
          ExpressionAttributeValues: { ':version': { N: String(version) } },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async listApp(app: string): Promise<StatusRow[]> {
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'app = :app',
        ExpressionAttributeValues: { ':app': { S: app } },
      }),
    );
    return Items.map((item) => {
      // The sweep's own bookkeeping is not part of what people read.
      const { app: _app, version: _version, dueAt: _dueAt, dueShard: _dueShard, ...status } = unmarshall(item);
      return status as StatusRow;
    });
  }

  async *due(now: Date): AsyncIterable<Array<{ app: string; hostname: string }>> {
    for (let shard = 0; shard < DUE_SHARDS; shard++) {
      let startKey: Record<string, AttributeValue> | undefined;
      do {
        const page = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: DUE_INDEX,
            KeyConditionExpression: 'dueShard = :shard AND dueAt <= :now',
            ExpressionAttributeValues: { ':shard': { S: `due#${shard}` }, ':now': { S: now.toISOString() } },
            ExclusiveStartKey: startKey,
          }),
        );
        const rows = (page.Items ?? []).map((item) => unmarshall(item) as { app: string; hostname: string });
        if (rows.length > 0) yield rows.map(({ app, hostname }) => ({ app, hostname }));
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }
  }
}

function dueShardOf(app: string, hostname: string): string {
  return `due#${createHash('sha256').update(`${app}#${hostname}`).digest().readUInt32BE(0) % DUE_SHARDS}`;
}
