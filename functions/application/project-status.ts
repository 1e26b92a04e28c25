// The status projection: a domain's row is rebuilt from its whole stream, so late,
// repeated or reordered stream records all end in the same row.
import { appDueAt } from '../domain/app-decider.ts';
import { evolve, initialState } from '../domain/certificate-decider.ts';
import { streamIds, type DomainEvent } from '../domain/events.ts';
import { figuresOf } from '../domain/figures.ts';
import { certificateStatus, sweepDueAt } from '../domain/status.ts';
import type { Ports } from './ports.ts';
import { loadApp, type DomainRef } from './streams.ts';

export type ProjectionPorts = Pick<Ports, 'events' | 'statuses' | 'settings' | 'measure'>;

/**
 * Rebuilds the row, then counts what the delivered versions add (at least once, like the
 * stream that delivers them), each from the state just before it.
 */
export async function projectDomainStatus(ports: ProjectionPorts, ref: DomainRef, deliveredVersions: number[] = []): Promise<void> {
  const delivered = new Set(deliveredVersions);
  let state = initialState;
  for (const event of await ports.events.read<DomainEvent>(streamIds.domain(ref.app, ref.hostname))) {
    if (delivered.has(event.version)) {
      for (const { name, dimensions, value } of figuresOf(event, state)) {
        if (value === undefined) ports.measure.count(name, dimensions);
        else ports.measure.value(name, value, dimensions);
      }
    }
    state = evolve(state, event);
  }
  const status = certificateStatus(state);
  if (status) await ports.statuses.save(ref.app, status, state.version, sweepDueAt(state, ports.settings.retryPolicy));
  else await ports.statuses.remove(ref.app, ref.hostname, state.version);
}

/** The app's row: automation on or off, its upload notices, and when its next upload notice is due. */
export async function projectAppStatus(ports: ProjectionPorts, app: string): Promise<void> {
  const state = await loadApp(ports, app);
  if (state.deleted) await ports.statuses.removeApp(app, state.version);
  else await ports.statuses.saveApp({ app, acmEnabled: state.acmEnabled, notices: state.notices }, state.version, appDueAt(state));
}
