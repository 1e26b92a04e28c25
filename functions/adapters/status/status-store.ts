import type { StatusRow } from '../../domain/status.ts';

/** The port: the status projection, one row per (app, hostname), each stamped with the stream version it reflects. */
export interface StatusStore {
  /**
   * Writes the row unless a newer version is already there (stream records can arrive late
   * or twice). `dueAt` puts it in the sweep's index; without it the row is not there.
   */
  save(app: string, status: StatusRow, version: number, dueAt?: string): Promise<void>;
  /** Removes the row of a domain that is gone, unless a newer version was written since. */
  remove(app: string, hostname: string, version: number): Promise<void>;
  listApp(app: string): Promise<StatusRow[]>;
  /** Domains due for the sweep by `now`, a page at a time from the sparse index: never a scan. */
  due(now: Date): AsyncIterable<Array<{ app: string; hostname: string }>>;
}
