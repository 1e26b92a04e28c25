import type { RecordedEvent, StreamEvent } from '../../domain/events.ts';

export interface AppendContext {
  at: string;
  /** The workflow execution (or request) that caused these events. */
  correlationId: string;
  causationId?: string;
}

/** Events for one stream, after the version the writer read. */
export interface StreamWrite {
  streamId: string;
  expectedVersion: number;
  events: StreamEvent[];
}

/** The port: an append-only log of streams with optimistic concurrency. */
export interface EventStore {
  read<E extends StreamEvent = StreamEvent>(streamId: string): Promise<RecordedEvent<E>[]>;
  /** The stream's last event only: for streams whose every event carries the whole state (the rate-limit buckets). */
  readLast<E extends StreamEvent = StreamEvent>(streamId: string): Promise<RecordedEvent<E> | undefined>;
  /**
   * Appends to one or more streams, all or nothing; throws ConcurrencyError if any
   * stream moved past the version its writer read.
   */
  append(writes: StreamWrite[], context: AppendContext): Promise<RecordedEvent<StreamEvent>[]>;
}
