// The status projector: fed by the event table's stream (DynamoDB Streams in AWS,
// DynamoDB Local's stream in the local cloud). A row is rebuilt from the whole
// stream, so late, repeated or reordered records all end in the same row.
import middy from '@middy/core';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { domainStatus } from '../../domain/status.ts';
import { dependencies } from '../lib/dependencies.ts';
import { loadDomain } from '../lib/streams.ts';

export const handler = middy(async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  const deps = dependencies();
  const firstRecordOfStream = new Map<string, string>();
  for (const record of event.Records) {
    const image = record.dynamodb?.NewImage;
    if (!image) continue;
    const { streamId } = unmarshall(image as Record<string, AttributeValue>) as { streamId: string };
    if (streamId.startsWith('domain#') && !firstRecordOfStream.has(streamId)) {
      firstRecordOfStream.set(streamId, record.dynamodb?.SequenceNumber ?? '');
    }
  }
  const batchItemFailures: DynamoDBBatchResponse['batchItemFailures'] = [];
  await Promise.all(
    [...firstRecordOfStream].map(async ([streamId, sequenceNumber]) => {
      const [, app = '', hostname = ''] = streamId.split('#');
      try {
        const state = await loadDomain(deps, { app, hostname });
        const status = domainStatus(state);
        if (status) await deps.statuses.save(app, status, state.version);
        else await deps.statuses.remove(app, hostname, state.version);
      } catch (error) {
        console.error(JSON.stringify({ streamId, error: String(error) }));
        batchItemFailures.push({ itemIdentifier: sequenceNumber });
      }
    }),
  );
  return { batchItemFailures };
});
