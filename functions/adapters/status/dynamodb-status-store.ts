// The status projection in DynamoDB, written only by the projector.
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  type AttributeValue,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import { createHash } from 'node:crypto';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { StatusRow } from '../../domain/status.ts';
import type { AppRow, DueRef, StatusStore } from './status-store.ts';

/** The sweep's sparse index (the stack defines it): rows with a `dueAt` only, spread over shards. */
export const DUE_INDEX = 'Due';
/** Enough partitions that a million rows never crowd one; each is queried page by page. */
const DUE_SHARDS = 16;
/**
 * The apps' own rows share one partition, keyed by app name: a page of it is the app list.
 * Not a name an app can have on the platform (names are DNS labels).
 */
const APPS_PARTITION = '#apps';

export class DynamoDbStatusStore implements StatusStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  save(app: string, status: StatusRow, version: number, dueAt?: string): Promise<void> {
    return this.put(app, status.hostname, status, version, dueAt);
  }

  remove(app: string, hostname: string, version: number): Promise<void> {
    return this.delete(app, hostname, version);
  }

  saveApp({ app, ...row }: AppRow, version: number, dueAt?: string): Promise<void> {
    return this.put(APPS_PARTITION, app, row, version, dueAt);
  }

  removeApp(app: string, version: number): Promise<void> {
    return this.delete(APPS_PARTITION, app, version);
  }

  async *listApps(): AsyncIterable<AppRow[]> {
    for await (const items of this.pages({
      KeyConditionExpression: 'app = :app',
      ExpressionAttributeValues: { ':app': { S: APPS_PARTITION } },
    })) {
      yield items.map(({ hostname, acmEnabled, notices }) => ({ app: hostname, acmEnabled, notices }) as AppRow);
    }
  }

  private async put(app: string, hostname: string, row: object, version: number, dueAt: string | undefined): Promise<void> {
    const due = dueAt && { dueAt, dueShard: dueShardOf(app, hostname) };
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall({ ...row, app, hostname, version, ...due }, { removeUndefinedValues: true }),
          ConditionExpression: 'attribute_not_exists(app) OR version < :version',
          ExpressionAttributeValues: { ':version': { N: String(version) } },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  private async delete(app: string, hostname: string, version: number): Promise<void> {
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

  async *due(now: Date): AsyncIterable<DueRef[]> {
    for (let shard = 0; shard < DUE_SHARDS; shard++) {
      const query = {
        IndexName: DUE_INDEX,
        KeyConditionExpression: 'dueShard = :shard AND dueAt <= :now',
        ExpressionAttributeValues: { ':shard': { S: `due#${shard}` }, ':now': { S: now.toISOString() } },
      };
      for await (const items of this.pages(query)) {
        yield items.map(({ app, hostname }): DueRef =>
          app === APPS_PARTITION ? { kind: 'app', app: hostname } : { kind: 'domain', app, hostname },
        );
      }
    }
  }

  /** A query's items, page by page (pages with nothing in them skipped). */
  private async *pages(query: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>): AsyncIterable<Array<Record<string, any>>> {
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(new QueryCommand({ ...query, TableName: this.tableName, ExclusiveStartKey: startKey }));
      const items = (page.Items ?? []).map((item) => unmarshall(item));
      if (items.length > 0) yield items;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
}

function dueShardOf(app: string, hostname: string): string {
  return `due#${createHash('sha256').update(`${app}#${hostname}`).digest().readUInt32BE(0) % DUE_SHARDS}`;
}
