// The status projection: a domain's row is rebuilt from its whole stream, so late,
// repeated or reordered stream records all end in the same row.
import { certificateStatus, sweepDueAt } from '../domain/status.ts';
import type { Ports } from './ports.ts';
import { loadDomain, type DomainRef } from './streams.ts';

export type ProjectionPorts = Pick<Ports, 'events' | 'statuses' | 'settings'>;

export async function projectDomainStatus(ports: ProjectionPorts, ref: DomainRef): Promise<void> {
  const state = await loadDomain(ports, ref);
  const status = certificateStatus(state);
  if (status) await ports.statuses.save(ref.app, status, state.version, sweepDueAt(state, ports.settings.retryPolicy));
  else await ports.statuses.remove(ref.app, ref.hostname, state.version);
}
