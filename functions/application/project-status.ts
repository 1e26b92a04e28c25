// The status projection: a domain's row is rebuilt from its whole stream, so late,
// repeated or reordered stream records all end in the same row.
import type { DomainEvent } from '../domain/events.ts';
import { figuresOf } from '../domain/figures.ts';
import { certificateStatus, sweepDueAt } from '../domain/status.ts';
import type { Ports } from './ports.ts';
import { loadDomain, type DomainRef } from './streams.ts';

export type ProjectionPorts = Pick<Ports, 'events' | 'statuses' | 'settings' | 'measure'>;

/** Rebuilds the row, then counts what the new records add (at least once, like the stream that delivers them). */
export async function projectDomainStatus(ports: ProjectionPorts, ref: DomainRef, delivered: DomainEvent[] = []): Promise<void> {
  const state = await loadDomain(ports, ref);
  const status = certificateStatus(state);
  if (status) await ports.statuses.save(ref.app, status, state.version, sweepDueAt(state, ports.settings.retryPolicy));
  else await ports.statuses.remove(ref.app, ref.hostname, state.version);
  for (const event of delivered) {
    for (const { name, dimensions } of figuresOf(event, state.attempt?.trigger)) ports.measure.count(name, dimensions);
  }
}
