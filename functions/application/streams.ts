// Load streams, decide, append: the one way every use case changes state. Several
// streams change together in one transaction; on a concurrent append everything is
// re-read and decided again.
import { foldApp, type AppState } from '../domain/app-decider.ts';
import { decide, fold, type DomainCommand, type DomainState } from '../domain/certificate-decider.ts';
import { ConcurrencyError } from '../domain/errors.ts';
import { streamIds, type AppEvent, type DomainEvent, type Order, type RecordedEvent, type StreamEvent } from '../domain/events.ts';
import type { EventLog } from './ports.ts';

/** Writers racing on one stream (a bulk add to one app, workflows on one rate-limit bucket): each round lets one through. */
const MAX_CONFLICT_RETRIES = 50;
const MAX_CONFLICT_PAUSE_MS = 20;

/** After a failed append: rethrow anything but a conflict (or one conflict too many); else pause a random moment. */
export async function afterConflict(error: unknown, conflicts: number): Promise<void> {
  if (!(error instanceof ConcurrencyError) || conflicts >= MAX_CONFLICT_RETRIES) throw error;
  await new Promise((resolve) => setTimeout(resolve, Math.random() * MAX_CONFLICT_PAUSE_MS));
}

export interface DomainRef {
  app: string;
  hostname: string;
}

type Histories<K extends string> = Record<K, RecordedEvent<StreamEvent>[]>;

/**
 * Reads every stream in `streams`, asks `decide` what to append to each, and appends it
 * all at once. Returns the histories it decided on and what it appended, per stream.
 * `known`: histories the caller has just read or written, decided on without reading them
 * again; a concurrent append since makes the append fail, and everything is read afresh.
 */
export async function transact<K extends string>(
  log: Pick<EventLog, 'events'>,
  streams: Record<K, string>,
  decideAll: (histories: Histories<K>, now: Date) => Partial<Record<K, StreamEvent[]>>,
  correlationId: string,
  known: Partial<Histories<K>> = {},
): Promise<{ histories: Histories<K>; appended: Histories<K> }> {
  const keys = Object.keys(streams) as K[];
  for (let conflicts = 0; ; conflicts++) {
    const histories = Object.fromEntries(
      await Promise.all(keys.map(async (key) => [key, (conflicts === 0 && known[key]) || (await log.events.read(streams[key]))])),
    ) as Histories<K>;
    const now = new Date();
    const decided = decideAll(histories, now);
    const writes = keys
      .filter((key) => (decided[key] ?? []).length > 0)
      .map((key) => ({ streamId: streams[key], expectedVersion: histories[key].length, events: decided[key]! }));
    const appended = Object.fromEntries(keys.map((key) => [key, []])) as unknown as Histories<K>;
    if (writes.length === 0) return { histories, appended };
    try {
      for (const event of await log.events.append(writes, { at: now.toISOString(), correlationId })) {
        appended[keys.find((key) => streams[key] === event.streamId)!].push(event);
      }
      return { histories, appended };
    } catch (error) {
      await afterConflict(error, conflicts);
    }
  }
}

export const domainHistory = (events: RecordedEvent<StreamEvent>[]) => events as RecordedEvent<DomainEvent>[];
export const appHistory = (events: RecordedEvent<StreamEvent>[]) => events as RecordedEvent<AppEvent>[];

export async function loadDomain(log: Pick<EventLog, 'events'>, ref: DomainRef): Promise<DomainState> {
  return (await readDomain(log, ref)).state;
}

/** A domain's stream as read, and its state: what a step decides on, and hands to `execute` so it is not read again. */
export interface LoadedDomain {
  history: RecordedEvent<DomainEvent>[];
  state: DomainState;
}

export async function readDomain(log: Pick<EventLog, 'events'>, { app, hostname }: DomainRef): Promise<LoadedDomain> {
  const history = await log.events.read<DomainEvent>(streamIds.domain(app, hostname));
  return { history, state: fold(history) };
}

export async function loadApp(log: Pick<EventLog, 'events'>, app: string): Promise<AppState> {
  return foldApp(await log.events.read<AppEvent>(streamIds.app(app)));
}

/**
 * Runs a command against one domain's stream; `known` is the stream as the caller just read
 * it (or as the last `execute` left it), so it is not read again.
 */
export async function execute(
  log: EventLog,
  ref: DomainRef,
  command: DomainCommand,
  correlationId: string,
  known?: LoadedDomain,
): Promise<LoadedDomain & { appended: RecordedEvent<DomainEvent>[] }> {
  const { histories, appended } = await transact(
    log,
    { domain: streamIds.domain(ref.app, ref.hostname) },
    ({ domain }, now) => ({
      domain: decide(command, domain === known?.history ? known.state : fold(domainHistory(domain)), now, log.settings.retryPolicy),
    }),
    correlationId,
    known ? { domain: known.history } : {},
  );
  const events = domainHistory(appended.domain);
  const before = domainHistory(histories.domain);
  const decidedOn = before === known?.history ? known.state : fold(before);
  return { history: [...before, ...events], state: fold(events, decidedOn), appended: events };
}

/** The current try's ACME order; the steps after CreateOrder cannot run without it. */
export function requireOrder(state: DomainState, ref: DomainRef): Order {
  const order = state.attempt?.order;
  if (!order) throw new Error(`no order recorded for ${ref.hostname}: CreateOrder must run first`);
  return order;
}
