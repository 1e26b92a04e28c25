// The status projection in DynamoDB, written only by the projector.
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { DomainStatus } from '../../domain/status.ts';
import type { StatusStore } from './status-store.ts';

export class DynamoDbStatusStore implements StatusStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async save(app: string, status: DomainStatus, version: number): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall({ app, ...status, version }, { removeUndefinedValues: true }),
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

  async listApp(app: string): Promise<DomainStatus[]> {
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'app = :app',
        ExpressionAttributeValues: { ':app': { S: app } },
      }),
    );
    return Items.map((item) => {
      // The sweep's own bookkeeping is not part of what people read.
      const { app: _app, version: _version, renewalCheckAt: _renewalCheckAt, ...status } = unmarshall(item);
      return status as DomainStatus;
    });
  }

  /** A scan: fine for thousands of domains; a sparse index on renewsAt would take over beyond. */
  async needingAttention(now: Date, failingBefore: Date): Promise<Array<{ app: string; hostname: string }>> {
    const found: Array<{ app: string; hostname: string }> = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          ProjectionExpression: 'app, hostname',
          FilterExpression: 'renewsAt <= :now OR renewalCheckAt <= :now OR failingSince <= :failingBefore',
          ExpressionAttributeValues: { ':now': { S: now.toISOString() }, ':failingBefore': { S: failingBefore.toISOString() } },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) found.push(unmarshall(item) as { app: string; hostname: string });
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return found;
  }
}
