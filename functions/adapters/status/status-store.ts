import type { DomainStatus } from '../../domain/status.ts';

/** The port: the status projection, one row per (app, hostname), each stamped with the stream version it reflects. */
export interface StatusStore {
  /** Writes the row unless a newer version is already there (stream records can arrive late or twice). */
  save(app: string, status: DomainStatus, version: number): Promise<void>;
  /** Removes the row of a domain that is gone, unless a newer version was written since. */
  remove(app: string, hostname: string, version: number): Promise<void>;
  listApp(app: string): Promise<DomainStatus[]>;
  /** Domains the sweep must look at: a renewal or an ARI check due, or failing since before `failingBefore`. */
  needingAttention(now: Date, failingBefore: Date): Promise<Array<{ app: string; hostname: string }>>;
}
