import type { DomainEvent, RecordedEvent } from '../../domain/events.ts';

export interface AppendContext {
  at: string;
  /** The workflow execution (or request) that caused these events. */
  correlationId: string;
  causationId?: string;
}

/** The port: an append-only log of streams with optimistic concurrency. */
export interface EventStore {
  read(streamId: string): Promise<RecordedEvent[]>;
  /** Appends after `expectedVersion`; throws ConcurrencyError if the stream moved on. */
  append(streamId: string, expectedVersion: number, events: DomainEvent[], context: AppendContext): Promise<RecordedEvent[]>;
}
