// A database's enhanced certificate, in words and names: its hostname in the platform's
// zone, the connection URLs clients use, and what people must be told before a change.
import type { DomainState } from './certificate-decider.ts';

/** A database's name is one DNS label of its hostname `<database>.<app>.<suffix>`. */
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export type NameCheck = { valid: true } | { valid: false; rule: string };

export function checkDatabaseName(name: string): NameCheck {
  return LABEL.test(name)
    ? { valid: true }
    : { valid: false, rule: 'must be 1 to 63 lowercase letters, digits or hyphens, not starting or ending with a hyphen' };
}

export function databaseHostname(app: string, database: string, suffix: string): string {
  return `${database}.${app}.${suffix}`;
}

export const DEFAULT_POSTGRES_PORT = 5432;

export const DISABLE_WARNING =
  'Clients connecting with sslmode=verify-full must move to sslmode=require first: the database serves its ' +
  'platform-signed certificate again, which only sslmode=require (or weaker) accepts.';

export const ROTATION_GUIDANCE =
  'A server cannot see which roots its clients trust. Before rotating, every client must trust the trust bundle ' +
  '(GET .../enhanced-certificates/trust-bundle), which holds the old root and the new; clients that trust only the ' +
  'old root fail with "certificate verify failed" after the switch.';

export interface ConnectionUrls {
  /** With enhanced certificates: the server's name is checked against a publicly trusted root. */
  connectionUrl: string;
  /** What worked before, and keeps working: encrypted, the server's name not checked. */
  previousConnectionUrl: string;
}

/**
 * `postgresql://<hostname>:<port>/<database>?sslmode=...`; credentials are the platform's, not ours.
 * `hostAddress` is for a machine whose resolver does not know the platform's zone (the local cloud).
 */
export function connectionUrls(
  { hostname, database, port }: { hostname: string; database: string; port: number },
  rootCertPath: string,
  hostAddress?: string,
): ConnectionUrls {
  const base = `postgresql://${hostname}:${port}/${database}?`;
  const address = hostAddress ? `&hostaddr=${hostAddress}` : '';
  return {
    connectionUrl: `${base}sslmode=verify-full&sslrootcert=${encodeURIComponent(rootCertPath)}${address}`,
    previousConnectionUrl: `${base}sslmode=require${address}`,
  };
}

/** The database a certificate stream is for, when it is a database's. */
export function databaseOf(state: DomainState) {
  return state.domain?.database && !state.removed ? { ...state.domain, database: state.domain.database } : undefined;
}
