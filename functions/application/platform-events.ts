// The platform's events: DomainAdded, DomainRemoved, AppDeleted. Delivered at least
// once and in any order: each is handled once (its receipt is written in the same
// transaction as its effects), and an add older than a removal already seen is
// ignored, so any delivery order ends in the same state.
import { ConflictError, NotFoundError } from '../domain/errors.ts';
import { PLATFORM_EVENT_TYPES } from '../domain/events.ts';
import { checkHostname } from '../domain/hostname.ts';
import { addDomain, deleteApp, removeDomain, type AppPorts, type PlatformOrigin } from './apps.ts';

export interface PlatformEvent {
  origin: PlatformOrigin;
  app: string;
  hostname?: string;
  /** The platform may name the target; otherwise it is the app's own. */
  dnsTarget?: string;
}

/** Handled, or dropped with the rule it broke: retrying cannot make a malformed or refused event good. */
export type PlatformEventOutcome = { handled: string } | { dropped: string };

export async function handlePlatformEvent(
  ports: AppPorts,
  { origin, app, hostname, dnsTarget }: PlatformEvent,
): Promise<PlatformEventOutcome> {
  const correlationId = `platform:${origin.eventId}`;
  const { detailType } = origin;
  if (detailType === 'AppDeleted') {
    await deleteApp(ports, app, correlationId, origin);
    return { handled: detailType };
  }
  const checked = checkHostname(hostname ?? '');
  if (!checked.valid) return { dropped: `hostname: ${checked.rule}` };
  const ref = { app, hostname: checked.hostname };
  try {
    if (detailType === 'DomainAdded') await addDomain(ports, { ...ref, ...(dnsTarget && { dnsTarget }) }, correlationId, origin);
    else if (detailType === 'DomainRemoved') await removeDomain(ports, ref, 'removed', correlationId, origin);
    else return { dropped: `detail-type: ${detailType} is not one of ${PLATFORM_EVENT_TYPES.join(', ')}` };
  } catch (error) {
    // On another app, or for an app that was deleted: no retry will change that.
    if (error instanceof ConflictError || error instanceof NotFoundError) return { dropped: error.message };
    throw error;
  }
  return { handled: detailType };
}
