// Load a domain's stream, decide, append: the one way every handler changes a domain.
import { decide, fold, type DomainCommand, type DomainState, type Order } from '../../domain/certificate-decider.ts';
import { ConcurrencyError } from '../../domain/errors.ts';
import { domainStreamId, type RecordedEvent } from '../../domain/events.ts';
import type { Dependencies } from './dependencies.ts';

const MAX_CONFLICT_RETRIES = 5;

export interface DomainRef {
  app: string;
  hostname: string;
}

export async function loadDomain(deps: Dependencies, { app, hostname }: DomainRef): Promise<DomainState> {
  return fold(await deps.events.read(domainStreamId(app, hostname)));
}

/** Runs a command against the domain; on a concurrent append, re-reads and decides again. */
export async function execute(
  deps: Dependencies,
  ref: DomainRef,
  command: DomainCommand,
  correlationId: string,
): Promise<{ state: DomainState; appended: RecordedEvent[] }> {
  const streamId = domainStreamId(ref.app, ref.hostname);
  for (let conflicts = 0; ; conflicts++) {
    const state = await loadDomain(deps, ref);
    const now = new Date();
    const events = decide(command, state, now, deps.config.retryPolicy);
    if (events.length === 0) return { state, appended: [] };
    try {
      const appended = await deps.events.append(streamId, state.version, events, { at: now.toISOString(), correlationId });
      return { state: fold(appended, state), appended };
    } catch (error) {
      if (!(error instanceof ConcurrencyError) || conflicts >= MAX_CONFLICT_RETRIES) throw error;
    }
  }
}

/** The current try's ACME order; the steps after CreateOrder cannot run without it. */
export async function loadOrder(deps: Dependencies, ref: DomainRef): Promise<Order> {
  const order = (await loadDomain(deps, ref)).attempt?.order;
  if (!order) throw new Error(`no order recorded for ${ref.hostname}: CreateOrder must run first`);
  return order;
}
