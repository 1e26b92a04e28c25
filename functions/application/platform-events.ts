// The platform's events: DomainAdded, DomainRemoved, AppDeleted, DatabaseAdded, DatabaseRemoved. Delivered at least
// once and in any order: each is handled once (its receipt is written in the same
// transaction as its effects), and an add older than a removal already seen is
// ignored, so any delivery order ends in the same state.
import { ConflictError, InvalidInputError, NotFoundError } from '../domain/errors.ts';
import { PLATFORM_EVENT_TYPES } from '../domain/events.ts';
import { checkHostname } from '../domain/hostname.ts';
import { addDomain, deleteApp, removeDomain, type PlatformOrigin } from './apps.ts';
import { addDatabase, removeAppDatabases, removeDatabase, type DatabasePorts } from './databases.ts';

export interface PlatformEvent {
  origin: PlatformOrigin;
  app: string;
  hostname?: string;
  /** The platform may name the target; otherwise it is the app's own. */
  dnsTarget?: string;
  database?: string;
  port?: number;
}

/** Handled, or dropped with the rule it broke: retrying cannot make a malformed or refused event good. */
export type PlatformEventOutcome = { handled: string } | { dropped: string };

export async function handlePlatformEvent(
  ports: DatabasePorts,
  { origin, app, hostname, dnsTarget, database, port }: PlatformEvent,
): Promise<PlatformEventOutcome> {
  const correlationId = `platform:${origin.eventId}`;
  const { detailType } = origin;
  if (detailType === 'AppDeleted') {
    await removeAppDatabases(ports, app, correlationId);
    await deleteApp(ports, app, correlationId, origin);
    return { handled: detailType };
  }
  if (detailType === 'DatabaseAdded' || detailType === 'DatabaseRemoved') {
    if (!database) return { dropped: 'database: is required' };
    const named = { app, database };
    try {
      if (detailType === 'DatabaseAdded') await addDatabase(ports, { ...named, ...(port && { port }) }, correlationId, origin);
      else await removeDatabase(ports, named, 'removed', correlationId, origin);
    } catch (error) {
      if (error instanceof InvalidInputError || error instanceof NotFoundError) return { dropped: error.message };
      throw error;
    }
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
