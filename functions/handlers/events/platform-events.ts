// The platform's events from EventBridge: DomainAdded, DomainRemoved, AppDeleted, DatabaseAdded, DatabaseRemoved,
// handled once and in any order (see the use case).
import middy from '@middy/core';
import type { EventBridgeEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { en } from 'zod/locales';
import type { DatabasePorts } from '../../application/databases.ts';
import { handlePlatformEvent, type PlatformEventOutcome } from '../../application/platform-events.ts';
import type { Ports } from '../../application/ports.ts';
import { observed } from '../observability.ts';
import { awsHandler, events, settings, workflows, certificates, databases, log } from '../wire.ts';

// A dropped event's reason is zod's English message (mini registers no locale itself; see http/contract.ts).
z.config(en());

/** The `detail` of the platform's events (documented in README). */
export const PlatformEventDetail = z.object({
  eventId: z.string().check(z.minLength(1)),
  app: z.string().check(z.minLength(1)),
  hostname: z.optional(z.string()),
  dnsTarget: z.optional(z.string()),
  database: z.optional(z.string()),
  port: z.optional(z.number().check(z.int(), z.gte(1), z.lte(65535))),
  /** When it happened, to the millisecond; EventBridge's own `time` (seconds) otherwise. */
  occurredAt: z.optional(z.iso.datetime()),
});

export const createHandler = (ports: DatabasePorts & Pick<Ports, 'log'>) =>
  observed(
    middy(async (event: EventBridgeEvent<string, unknown>): Promise<PlatformEventOutcome> => {
      const parsed = PlatformEventDetail.safeParse(event.detail);
      const outcome: PlatformEventOutcome = parsed.success
        ? await handlePlatformEvent(ports, {
            origin: { eventId: parsed.data.eventId, detailType: event['detail-type'], time: parsed.data.occurredAt ?? event.time },
            app: parsed.data.app,
            ...(parsed.data.hostname !== undefined && { hostname: parsed.data.hostname }),
            ...(parsed.data.dnsTarget && { dnsTarget: parsed.data.dnsTarget }),
            ...(parsed.data.database !== undefined && { database: parsed.data.database }),
            ...(parsed.data.port !== undefined && { port: parsed.data.port }),
          })
        : { dropped: `detail: ${parsed.error.issues[0]?.message ?? 'invalid'}` };
      // A dropped event is not retried: operators read why.
      if ('dropped' in outcome) ports.log.warn('platform event dropped', { detailType: event['detail-type'], dropped: outcome.dropped });
      return outcome;
    }),
    (event) => ({ correlationId: `platform:${String((event.detail as { eventId?: unknown } | undefined)?.eventId ?? event.id)}` }),
  );

export const handler = awsHandler({ events, settings, workflows, certificates, databases, log }, createHandler);
