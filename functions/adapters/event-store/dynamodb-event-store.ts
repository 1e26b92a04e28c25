// The event log on DynamoDB: one item per event, keyed (streamId, version). A
// conditional put is the optimistic lock; several events go in one transaction.
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { ConcurrencyError } from '../../domain/errors.ts';
import { SCHEMA_VERSION, type RecordedEvent, type StreamEvent } from '../../domain/events.ts';
import type { AppendContext, EventStore, StreamWrite } from './event-store.ts';

const APPEND_ONLY = 'attribute_not_exists(streamId)';
/** DynamoDB's limit on one TransactWriteItems. */
const MAX_TRANSACTION_ITEMS = 100;

export class DynamoDbEventStore implements EventStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async read<E extends StreamEvent = StreamEvent>(streamId: string): Promise<RecordedEvent<E>[]> {
    const events: RecordedEvent<E>[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'streamId = :streamId',
          ExpressionAttributeValues: { ':streamId': { S: streamId } },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) events.push(unmarshall(item) as RecordedEvent<E>);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return events;
  }

  async readLast<E extends StreamEvent = StreamEvent>(streamId: string): Promise<RecordedEvent<E> | undefined> {
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'streamId = :streamId',
        ExpressionAttributeValues: { ':streamId': { S: streamId } },
        ConsistentRead: true,
        ScanIndexForward: false,
        Limit: 1,
      }),
    );
    return Items[0] && (unmarshall(Items[0]) as RecordedEvent<E>);
  }

  async append(writes: StreamWrite[], context: AppendContext): Promise<RecordedEvent<StreamEvent>[]> {
    const recorded = writes.flatMap(({ streamId, expectedVersion, events }) =>
      events.map((event, index): RecordedEvent<StreamEvent> => ({
        ...event,
        streamId,
        version: expectedVersion + index + 1,
        at: context.at,
        schemaVersion: SCHEMA_VERSION,
        correlationId: context.correlationId,
        ...(context.causationId && { causationId: context.causationId }),
      })),
    );
    if (recorded.length > MAX_TRANSACTION_ITEMS) throw new Error(`one append holds at most ${MAX_TRANSACTION_ITEMS} events`);
    const puts = recorded.map((event) => ({
      TableName: this.tableName,
      Item: marshall(event, { removeUndefinedValues: true, convertClassInstanceToMap: true }),
      ConditionExpression: APPEND_ONLY,
    }));
    try {
      if (puts.length === 1) await this.client.send(new PutItemCommand(puts[0]!));
      else if (puts.length > 1) await this.client.send(new TransactWriteItemsCommand({ TransactItems: puts.map((Put) => ({ Put })) }));
    } catch (error) {
      if (isConditionFailure(error)) {
        const streams = writes.map(({ streamId, expectedVersion }) => `${streamId}@${expectedVersion}`).join(', ');
        throw new ConcurrencyError(`a stream moved on while appending (${streams})`);
      }
      throw error;
    }
    return recorded;
  }
}

/** Another writer got there first: a version taken, or a transaction on the same item at the same moment. */
function isConditionFailure(error: unknown): boolean {
  if (error instanceof ConditionalCheckFailedException || (error as Error).name === 'TransactionConflictException') return true;
  return (
    error instanceof TransactionCanceledException &&
    (error.CancellationReasons ?? []).some((reason) => reason.Code === 'ConditionalCheckFailed' || reason.Code === 'TransactionConflict')
  );
}
