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
/** Operators' list of apps (the stack defines it): the apps' own rows, by name. */
export const APPS_INDEX = 'Apps';
const LISTED_IN_APPS = 'apps';
/** An app's own row sits in its partition beside its domains' rows, under a name no hostname can have. */
const APP_ROW = '#app';

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
    return this.put(app, APP_ROW, { ...row, listedIn: LISTED_IN_APPS }, version, dueAt);
  }

  removeApp(app: string, version: number): Promise<void> {
    return this.delete(app, APP_ROW, version);
  }

  async *listApps(): AsyncIterable<AppRow[]> {
    const query = {
      IndexName: APPS_INDEX,
      KeyConditionExpression: 'listedIn = :apps',
      ExpressionAttributeValues: { ':apps': { S: LISTED_IN_APPS } },
    };
    for await (const items of this.pages(query)) yield items.map(appRow);
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

  /** One Query of the app's partition: its own row and every domain's and database's. */
  async readApp(app: string): Promise<{ app?: AppRow; rows: StatusRow[] }> {
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'app = :app',
        ExpressionAttributeValues: { ':app': { S: app } },
      }),
    );
    const items = Items.map((item) => unmarshall(item));
    const own = items.find((item) => item.hostname === APP_ROW);
    const rows = items
      .filter((item) => item !== own)
      .map((item) => {
        // The sweep's own bookkeeping is not part of what people read.
        const { app: _app, version: _version, dueAt: _dueAt, dueShard: _dueShard, ...status } = item;
        return status as StatusRow;
      });
    return { ...(own && { app: appRow(own) }), rows };
  }

  async *due(now: Date): AsyncIterable<DueRef[]> {
    for (let shard = 0; shard < DUE_SHARDS; shard++) {
      const query = {
        IndexName: DUE_INDEX,
        KeyConditionExpression: 'dueShard = :shard AND dueAt <= :now',
        ExpressionAttributeValues: { ':shard': { S: `due#${shard}` }, ':now': { S: now.toISOString() } },
      };
      for await (const items of this.pages(query)) {
        yield items.map(({ app, hostname }): DueRef => (hostname === APP_ROW ? { kind: 'app', app } : { kind: 'domain', app, hostname }));
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

function appRow({ app, acmEnabled, domains = [], tlsPolicy, notices = [] }: Record<string, any>): AppRow {
  return { app, acmEnabled, domains, tlsPolicy, notices };
}

function dueShardOf(app: string, hostname: string): string {
  return `due#${createHash('sha256').update(`${app}#${hostname}`).digest().readUInt32BE(0) % DUE_SHARDS}`;
}
