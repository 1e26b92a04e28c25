// HTTP-01 answers: token -> key authorization, read by the edge for
// /.well-known/acme-challenge/<token>. Items expire by DynamoDB TTL.
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { ChallengeStore } from './challenge-store.ts';

const ANSWER_LIFETIME_SECONDS = 24 * 60 * 60;

export class DynamoDbChallengeStore implements ChallengeStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async publish(token: string, keyAuthorization: string, now: Date): Promise<void> {
    const expiresAt = Math.floor(now.getTime() / 1000) + ANSWER_LIFETIME_SECONDS;
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: { token: { S: token }, keyAuthorization: { S: keyAuthorization }, expiresAt: { N: String(expiresAt) } },
      }),
    );
  }

  async answer(token: string, now: Date): Promise<string | undefined> {
    const { Item } = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: { token: { S: token } } }));
    // TTL deletion lags by up to days: an expired answer is no answer.
    if (!Item || Number(Item.expiresAt?.N) * 1000 < now.getTime()) return undefined;
    return Item.keyAuthorization?.S;
  }
}
