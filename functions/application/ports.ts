// What the use cases are given: one port per outside system, and the settings that
// shape their decisions. A composition root builds exactly the ports one function needs.
import type { CertificateAuthority } from '../adapters/acme/certificate-authority.ts';
import type { CertificateStore } from '../adapters/certificates/certificate-store.ts';
import type { ChallengeProbe } from '../adapters/challenges/challenge-probe.ts';
import type { ChallengeStore } from '../adapters/challenges/challenge-store.ts';
import type { DatabaseServers } from '../adapters/databases/database-servers.ts';
import type { DnsChallengeZone } from '../adapters/dns/dns-challenge-zone.ts';
import type { DnsLookup } from '../adapters/dns/dns-lookup.ts';
import type { EventStore } from '../adapters/event-store/event-store.ts';
import type { Notifications } from '../adapters/notifications/notifications.ts';
import type { Secret } from '../adapters/secrets/secret.ts';
import type { StatusStore } from '../adapters/status/status-store.ts';
import type { Workflows } from '../adapters/workflows/workflows.ts';
import type { RetryPolicy } from '../domain/certificate-decider.ts';
import type { Figure } from '../domain/figures.ts';
import { LETS_ENCRYPT_LIMITS, type Limits } from '../domain/rate-limits.ts';
import { NOTIFY_AFTER_FAILING_MS } from '../domain/renewal.ts';
import type { ValidationLooks } from '../domain/validation-deadline.ts';

export interface Settings {
  retryPolicy: RetryPolicy;
  /** App DNS targets are `<app>.<dnsTargetSuffix>`. */
  dnsTargetSuffix: string;
  /** DNS targets apps used to point at before (CNAME_TARGET_INCORRECT). */
  legacyTargetSuffixes: string[];
  /** The CA's identities in CAA `issue` records. */
  caaIssuerDomainNames: string[];
  /** Renewals found by one sweep start spread over this many seconds. */
  renewalJitterSeconds: number;
  /** The CA's rate limits the ledger keeps to. */
  rateLimits: Limits;
  /** PEM roots an uploaded chain may be trusted to: the public ones, plus the local Pebble's on this machine. */
  trustedRootsPem: readonly string[];
  /** Databases' hostnames are `<database>.<app>.<databaseHostSuffix>`, in a zone the platform owns. */
  databaseHostSuffix: string;
  /** What clients put as `sslrootcert` for `sslmode=verify-full`: the system's public roots in production. */
  databaseRootCertPath: string;
  /** Where the platform's zone is not in the clients' resolver (this machine), connection URLs name the address too. */
  databaseHostAddress?: string;
  /** The looks at the CA's validation right after asking for it. */
  validationLooks: ValidationLooks;
}

/** Production's settings; each place it runs overrides what it must. */
export const DEFAULT_SETTINGS: Omit<Settings, 'trustedRootsPem'> = {
  retryPolicy: {
    failingWindowMs: 60 * 60_000,
    firstRetryDelayMs: 60_000,
    maxRetryDelayMs: 15 * 60_000,
    notifyAfterMs: NOTIFY_AFTER_FAILING_MS,
  },
  dnsTargetSuffix: 'edge.example.net',
  legacyTargetSuffixes: [],
  caaIssuerDomainNames: ['letsencrypt.org'],
  renewalJitterSeconds: 3600,
  rateLimits: LETS_ENCRYPT_LIMITS,
  databaseHostSuffix: 'db.example.net',
  databaseRootCertPath: '/etc/ssl/certs/ca-certificates.crt',
  // Let's Encrypt validates in a second or a few: looks at 0.5, 1.5, 3.5 and 7.5 s, then the Wait state's polls.
  validationLooks: { firstMs: 500, budgetMs: 8000 },
};

/** Where use cases say what an operator should know; structured, never a secret. */
export interface Log {
  warn(message: string, details: Record<string, unknown>): void;
  info(message: string, details: Record<string, unknown>): void;
}

/** The figures operators graph and alarm on (CloudWatch metrics, as EMF lines in the log). */
export type MetricName = Figure['name'] | 'DaysToExpiry' | 'ProjectorLag';

export interface Measure {
  count(name: MetricName, dimensions?: Record<string, string>): void;
  /** A reading, such as the days a certificate has left (the alarm takes the minimum). */
  value(name: MetricName, value: number, dimensions?: Record<string, string>): void;
}

export interface Ports {
  settings: Settings;
  log: Log;
  measure: Measure;
  events: EventStore;
  statuses: StatusStore;
  challenges: ChallengeStore;
  challengeProbe: ChallengeProbe;
  /** DNS-01 answers, in the platform's zone (databases' hostnames). */
  dnsChallenges: DnsChallengeZone;
  /** Where databases' certificates are installed. */
  databases: DatabaseServers;
  dns: DnsLookup;
  ca: CertificateAuthority;
  certificates: CertificateStore;
  workflows: Workflows;
  notifications: Notifications;
  /** What API tokens are signed with. */
  apiTokenSecret: Secret;
}

/** Reading and appending to the log, which every use case does. */
export type EventLog = Pick<Ports, 'events' | 'settings'>;
