// The platform's events from EventBridge: DomainAdded, DomainRemoved, AppDeleted.
// Delivered at least once and in any order: each event is handled once (its receipt is
// written in the same transaction as its effects), and an add older than a removal
// already seen is ignored, so any delivery order ends in the same state.
import middy from '@middy/core';
import type { EventBridgeEvent } from 'aws-lambda';
import { z } from 'zod';
import { ConflictError, NotFoundError } from '../../domain/errors.ts';
import { PLATFORM_EVENT_TYPES } from '../../domain/events.ts';
import { checkHostname } from '../../domain/hostname.ts';
import { addDomain, deleteApp, dnsTargetFor, removeDomain, type PlatformOrigin } from '../lib/apps.ts';
import { dependencies } from '../lib/dependencies.ts';

/** The `detail` of the platform's events (documented in README). */
export const PlatformEventDetail = z.object({
  eventId: z.string().min(1),
  app: z.string().min(1),
  hostname: z.string().optional(),
  dnsTarget: z.string().optional(),
  /** When it happened, to the millisecond; EventBridge's own `time` (seconds) otherwise. */
  occurredAt: z.iso.datetime().optional(),
});

export const handler = middy(async (event: EventBridgeEvent<string, unknown>) => {
  const deps = dependencies();
  const parsed = PlatformEventDetail.safeParse(event.detail);
  // Retrying cannot make a malformed or refused event good: log it for operators and drop it.
  const drop = (rule: string) => {
    console.error(
      JSON.stringify({ detailType: event['detail-type'], eventId: (event.detail as { eventId?: unknown })?.eventId, dropped: rule }),
    );
    return { dropped: rule };
  };
  if (!parsed.success) return drop(`detail: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const { eventId, app, hostname, dnsTarget, occurredAt } = parsed.data;
  const origin: PlatformOrigin = { eventId, detailType: event['detail-type'], time: occurredAt ?? event.time };
  const correlationId = `platform:${eventId}`;
  if (event['detail-type'] === 'AppDeleted') {
    await deleteApp(deps, app, correlationId, origin);
    return { handled: event['detail-type'] };
  }
  const checked = checkHostname(hostname ?? '');
  if (!checked.valid) return drop(`hostname: ${checked.rule}`);
  const ref = { app, hostname: checked.hostname };
  try {
    if (event['detail-type'] === 'DomainAdded')
      await addDomain(deps, { ...ref, dnsTarget: dnsTarget ?? dnsTargetFor(app, deps) }, correlationId, origin);
    else if (event['detail-type'] === 'DomainRemoved') await removeDomain(deps, ref, 'removed', correlationId, origin);
    else return drop(`detail-type: ${event['detail-type']} is not one of ${PLATFORM_EVENT_TYPES.join(', ')}`);
  } catch (error) {
    // On another app, or for an app that was deleted: no retry will change that.
    if (error instanceof ConflictError || error instanceof NotFoundError) return drop(error.message);
    throw error;
  }
  return { handled: event['detail-type'] };
});
