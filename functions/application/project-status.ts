// The status projection: a domain's row is rebuilt from its whole stream, so late,
// repeated or reordered stream records all end in the same row.
import { appDueAt, appRow } from '../domain/app-decider.ts';
import { isDeepStrictEqual } from 'node:util';
import { evolve, initialState, type DomainState } from '../domain/certificate-decider.ts';
import { streamIds, type AppEvent, type DomainEvent, type RecordedEvent } from '../domain/events.ts';
import { figuresOf } from '../domain/figures.ts';
import { certificateStatus, sweepDueAt, type StatusRow } from '../domain/status.ts';
import type { Ports } from './ports.ts';
import { loadApp, type DomainRef } from './streams.ts';
import { tellEdge } from './tls-policy.ts';

export type ProjectionPorts = Pick<Ports, 'events' | 'statuses' | 'settings' | 'measure' | 'notifications'>;

/**
 * The states the projector last built, by stream, the most recent kept: a batch that carries
 * on from one is folded onto it without reading the stream again. One per container.
 */
export class ProjectedStates {
  private readonly states = new Map<string, DomainState>();

  constructor(private readonly capacity = 10_000) {}

  get(streamId: string): DomainState | undefined {
    return this.states.get(streamId);
  }

  set(streamId: string, state: DomainState): void {
    this.states.delete(streamId);
    this.states.set(streamId, state);
    if (this.states.size > this.capacity) this.states.delete(this.states.keys().next().value!);
  }
}

/**
 * Rebuilds the row, then counts what the delivered events add (at least once, like the
 * stream that delivers them), each from the state just before it. A batch that changes nothing
 * people read or the sweep's index holds (progress inside a step) writes nothing.
 */
export async function projectDomainStatus(
  ports: ProjectionPorts,
  ref: DomainRef,
  delivered: RecordedEvent<DomainEvent>[] = [],
  known?: ProjectedStates,
): Promise<void> {
  const streamId = streamIds.domain(ref.app, ref.hostname);
  const versions = new Set(delivered.map((event) => event.version));
  const cached = known?.get(streamId);
  // In order and right after what was last built (Lambda's stream delivers a shard in order): no read.
  const carriesOn = cached && delivered.every((event, index) => event.version === cached.version + index + 1);
  let state = carriesOn ? cached : initialState;
  let before: DomainState | undefined;
  for (const event of carriesOn ? delivered : await ports.events.read<DomainEvent>(streamId)) {
    if (versions.has(event.version)) {
      before ??= state;
      for (const { name, dimensions, value } of figuresOf(event, state)) {
        if (value === undefined) ports.measure.count(name, dimensions);
        else ports.measure.value(name, value, dimensions);
      }
    }
    state = evolve(state, event);
  }
  known?.set(streamId, state);
  const status = certificateStatus(state);
  if (!status) return ports.statuses.remove(ref.app, ref.hostname, state.version);
  const dueAt = sweepDueAt(state, ports.settings.retryPolicy);
  const unchanged =
    before && isDeepStrictEqual(visible(certificateStatus(before), sweepDueAt(before, ports.settings.retryPolicy)), visible(status, dueAt));
  if (!unchanged) await ports.statuses.save(ref.app, status, state.version, dueAt);
}

/** What a row shows and when the sweep looks, but not when it was last touched. */
const visible = (row: StatusRow | undefined, dueAt: string | undefined) => ({ ...row, lastUpdated: undefined, dueAt });

/**
 * The app's row: what its status shows (automation, domains, TLS policy, upload notices), and when
 * its next upload notice is due; then the edge is told of the TLS policy changes delivered.
 */
export async function projectAppStatus(ports: ProjectionPorts, app: string, delivered: RecordedEvent<AppEvent>[] = []): Promise<void> {
  const state = await loadApp(ports, app);
  if (state.deleted) await ports.statuses.removeApp(app, state.version);
  else await ports.statuses.saveApp(appRow(app, state), state.version, appDueAt(state));
  await tellEdge(ports, app, delivered, state);
}
