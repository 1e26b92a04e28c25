import type { SentNotice } from '../../domain/notices.ts';
import type { TlsPolicySetting } from '../../domain/tls-policy.ts';
import type { StatusRow } from '../../domain/status.ts';

/** An app's own row: automation on or off, its custom domains, and what its owners were told about their uploads. */
export interface AppRow {
  app: string;
  acmEnabled: boolean;
  domains: string[];
  tlsPolicy: TlsPolicySetting;
  notices: SentNotice[];
}

/** What the sweep attends to: a domain's (or database's) certificate, or an app's uploaded certificates. */
export type DueRef = { kind: 'domain'; app: string; hostname: string } | { kind: 'app'; app: string };

/** The port: the status projection, one row per (app, hostname) and one per app, each stamped with the stream version it reflects. */
export interface StatusStore {
  /**
   * Writes the row unless a newer version is already there (stream records can arrive late
   * or twice). `dueAt` puts it in the sweep's index; without it the row is not there.
   */
  save(app: string, status: StatusRow, version: number, dueAt?: string): Promise<void>;
  /** Removes the row of a domain that is gone, unless a newer version was written since. */
  remove(app: string, hostname: string, version: number): Promise<void>;
  /** The app's own row (undefined before its first projection) and its domains' and databases' rows: one read. */
  readApp(app: string): Promise<{ app?: AppRow; rows: StatusRow[] }>;
  /** The app's own row, written and removed like a domain's. */
  saveApp(row: AppRow, version: number, dueAt?: string): Promise<void>;
  removeApp(app: string, version: number): Promise<void>;
  /** Every app, in name order, a page at a time. */
  listApps(): AsyncIterable<AppRow[]>;
  /** What is due for the sweep by `now`, a page at a time from the sparse index: never a scan. */
  due(now: Date): AsyncIterable<DueRef[]>;
}
