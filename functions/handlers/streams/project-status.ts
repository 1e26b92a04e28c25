// The status projector: fed by the event table's stream (DynamoDB Streams in AWS,
// DynamoDB Local's stream in the local cloud). Each domain or app a batch touches is
// projected once; a failure hands its first record back for a retry.
import middy from '@middy/core';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { projectAppStatus, projectDomainStatus, ProjectedStates, type ProjectionPorts } from '../../application/project-status.ts';
import { streamIds, type AppEvent, type DomainEvent, type RecordedEvent, type StreamEvent } from '../../domain/events.ts';
import type { Ports } from '../../application/ports.ts';
import { observed } from '../observability.ts';
import { awsHandler, events, log, measure, notifications, settings, statuses } from '../wire.ts';

export const createHandler = (ports: ProjectionPorts & Pick<Ports, 'log'>, known = new ProjectedStates()) =>
  observed(
    middy(async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
      const byStream = new Map<string, { firstRecord: string; events: RecordedEvent<StreamEvent>[] }>();
      let oldest = Infinity;
      for (const record of event.Records) {
        const image = record.dynamodb?.NewImage;
        if (!image) continue;
        const recorded = unmarshall(image as Record<string, AttributeValue>) as RecordedEvent<StreamEvent>;
        oldest = Math.min(oldest, Date.parse(recorded.at));
        if (!streamIds.domainOf(recorded.streamId) && !streamIds.appOf(recorded.streamId)) continue;
        const delivered = byStream.get(recorded.streamId) ?? { firstRecord: record.dynamodb?.SequenceNumber ?? '', events: [] };
        delivered.events.push(recorded);
        byStream.set(recorded.streamId, delivered);
      }
      // How far behind the log the statuses are: the oldest record's age as it reaches us.
      if (Number.isFinite(oldest)) ports.measure.value('ProjectorLag', Date.now() - oldest);
      const batchItemFailures: DynamoDBBatchResponse['batchItemFailures'] = [];
      await Promise.all(
        [...byStream].map(async ([streamId, { firstRecord: sequenceNumber, events: delivered }]) => {
          try {
            const domain = streamIds.domainOf(streamId);
            if (domain) await projectDomainStatus(ports, domain, delivered as RecordedEvent<DomainEvent>[], known);
            else await projectAppStatus(ports, streamIds.appOf(streamId)!, delivered as RecordedEvent<AppEvent>[]);
          } catch (error) {
            ports.log.warn('projection failed; the record is handed back for a retry', { streamId, error: String(error) });
            batchItemFailures.push({ itemIdentifier: sequenceNumber });
          }
        }),
      );
      return { batchItemFailures };
    }),
    // A batch: correlated by its first record, which a retry starts from.
    (event) => ({ correlationId: `stream:${event.Records?.[0]?.dynamodb?.SequenceNumber ?? 'empty'}` }),
  );

export const handler = awsHandler({ events, statuses, settings, log, measure, notifications }, createHandler);
