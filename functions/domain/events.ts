// The facts the service records, per stream. Past tense, append-only.
//   domain#<app>#<hostname>  the certificate of a hostname, an app's custom domain or one of its databases: DomainEvent
//   app#<app>                an app's settings, domains and uploaded certificates: AppEvent
//   hostname#<hostname>      which app holds a hostname, so one app at a time: ClaimEvent
//   receipt#<eventId>        a platform event handled, so a redelivery changes nothing: ReceiptEvent
//   ca-account               the ACME account we order with, so CAA accounturi is checked before ordering: AccountEvent
//   bucket#<limit>#<key>     one rate-limit bucket of the ledger: BucketEvent
import type { FailureReason } from './failure-reasons.ts';
import type { LimitName, OrderKind } from './rate-limits.ts';
import type { TlsPolicyName } from './tls-policy.ts';
import type { CertificateInfo } from './uploaded-certificate.ts';

/** One DNS answer that led to a decision, kept so the timeline explains itself. */
export interface DnsAnswer {
  name: string;
  type: 'A' | 'AAAA' | 'CNAME' | 'CAA' | 'TXT';
  data: string;
}

export type IssuanceTrigger = 'domain-added' | 'refresh' | 'renewal' | 'acm-enabled' | 'enhanced-certificates-enabled';

/** HTTP-01 at the app's edge for custom domains; DNS-01 in the platform's own zone for databases. */
export type ChallengeType = 'http-01' | 'dns-01';

/** The database a hostname's certificate is for: `<name>.<app>.<databaseHostSuffix>`. */
export interface DatabaseRef {
  name: string;
  port: number;
}

/** What the CA's renewal information said, and what we decided from it. */
export interface RenewalInfo {
  ariId: string;
  /** Absent when the CA offers no renewal information: the fixed rule stands. */
  window?: { start: string; end: string };
  explanationUrl?: string;
  /** The instant chosen inside the window (kept while the window stays the same). */
  renewsAt: string;
  /** When to look again. */
  nextCheckAt: string;
}

/** An ACME order for one name, and the one challenge that proves it. */
export interface Order {
  orderUrl: string;
  authorizationUrl: string;
  challengeUrl: string;
  token: string;
  /** Absent in orders recorded before databases: http-01. */
  challengeType?: ChallengeType;
}

/** What the CA issued, as read from the leaf: never its key. */
export interface IssuedCertificate {
  serialNumber: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  fingerprint256: string;
  /** Its ACME Renewal Information identifier (RFC 9773), when it names its issuer's key. */
  ariId?: string;
}

/** An expiry notice as recorded: which certificate, which threshold, and the days left when it went. */
export interface ExpiryNoticeData {
  notificationId: string;
  certificateArn: string;
  expiresAt: string;
  threshold: number;
  daysLeft: number;
}

export type DomainEvent =
  | { type: 'DomainAdded'; data: { app: string; hostname: string; dnsTarget: string; platformEventTime?: string } }
  /** `replaces`: an ARI renewal names the certificate it replaces (RFC 9773 §5). */
  | { type: 'IssuanceRequested'; data: { attempt: number; trigger: IssuanceTrigger; replaces?: string } }
  | { type: 'DnsVerified'; data: { attempt: number; answers: DnsAnswer[] } }
  | { type: 'DnsCheckFailed'; data: { attempt: number; reason: FailureReason; message: string; answers: DnsAnswer[] } }
  | { type: 'OrderCreated'; data: { attempt: number } & Order }
  /** This try's order took its tokens from the rate-limit buckets (one transaction with them). */
  | { type: 'OrderBudgetTaken'; data: { attempt: number; kind?: OrderKind } }
  /** The ledger predicted a rate limit: no order was sent, the attempt waits until the bucket refills. */
  | { type: 'OrderDeferred'; data: { attempt: number; until: string; limit: LimitName; bucket: string; message: string } }
  /** The CA answered alreadyReplaced: the attempt goes on as a plain renewal, without `replaces`. */
  | { type: 'ReplacementRefused'; data: { attempt: number; replaces: string } }
  | { type: 'ChallengePublished'; data: { attempt: number; token: string } }
  /** The CA no longer knows the order (a CA-side reset, a restarted local Pebble): the attempt orders afresh. */
  | { type: 'OrderForgottenByCa'; data: { attempt: number; orderUrl: string } }
  /** The reconciler found the attempt open with no live execution and started its `restart`-th one. */
  | { type: 'ExecutionRestarted'; data: { attempt: number; restart: number } }
  | { type: 'ChallengeValidated'; data: { attempt: number; challengeUrl: string } }
  | { type: 'CertificateIssued'; data: { attempt: number } & IssuedCertificate }
  /** About to install (an ACM import): what is installed under `installId` belongs to this attempt, recorded or not. */
  | { type: 'CertificateInstalling'; data: { attempt: number; installId: string } }
  /** A run died between installing and recording it: what it left under `installId` was deleted (its key is gone). */
  | { type: 'InstallationAbandoned'; data: { attempt: number; installId: string; removed: string[] } }
  /** For a database, `certificateArn` is where its host reads it (a secret), and it serves the chain to `servedRoot`. */
  | {
      type: 'CertificateInstalled';
      data: {
        attempt: number;
        certificateArn: string;
        notBefore: string;
        notAfter: string;
        servedRoot?: string;
        availableRoots?: string[];
      };
    }
  /** A database now serves its certificate's chain to another root (a CA rotation): same key, no new order. */
  | { type: 'ServedRootChanged'; data: { certificateArn: string; root: string } }
  | { type: 'RateLimited'; data: { attempt: number; until: string; problem?: unknown } }
  | { type: 'RenewalDue'; data: { certificateArn: string; notAfter: string; renewsAt: string } }
  | { type: 'RenewalInfoChecked'; data: RenewalInfo }
  | { type: 'FailureNotified'; data: { failingSince: string } }
  /** Owners were told that the serving certificate has `threshold` days or fewer left, not renewed. */
  | { type: 'ExpiryNoticeSent'; data: ExpiryNoticeData }
  | {
      type: 'IssuanceFailed';
      data: {
        attempt: number;
        /** Absent when the cause is not one a person can act on (e.g. the CA's own outage). */
        reason?: FailureReason;
        message: string;
        retryable: boolean;
        final: boolean;
        /** The raw ACME problem document or error, when there was one. */
        problem?: unknown;
      };
    }
  | { type: 'DomainRemoved'; data: { reason: 'removed' | 'app-deleted'; platformEventTime?: string } }
  /** The platform added a database: its certificate stream starts with enhanced certificates off. */
  | { type: 'DatabaseAdded'; data: { app: string; database: string; hostname: string; port: number; platformEventTime?: string } }
  | { type: 'DatabaseRemoved'; data: { reason: 'removed' | 'app-deleted'; platformEventTime?: string } }
  /** A platform add (or removal) of what is present (or gone) changed nothing, but it is newer: older ones arriving later lose to it. */
  | { type: 'PlatformEventSeen'; data: { change: 'added' | 'removed'; platformEventTime: string } }
  | { type: 'CertificateRemoved'; data: { certificateArn: string; reason: AutomationOffReason | 'domain-removed' } }
  /** The certificate should go but a TLS terminator still uses it: removing it is retried at `retryAt`. */
  | {
      type: 'CertificateRemovalDeferred';
      data: { certificateArn: string; because: AutomationOffReason | 'domain-removed'; reason: string; retryAt: string };
    }
  /** A removal deferred earlier went through. */
  | { type: 'DeferredCertificateRemoved'; data: { certificateArn: string } }
  | { type: 'IssuanceCancelled'; data: { attempt: number; reason: AutomationOffReason } };

/** Automation went off: an app's ACM for its domains, or enhanced certificates for a database. */
export type AutomationOffReason = 'acm-disabled' | 'enhanced-certificates-disabled';

export type AppEvent =
  | { type: 'AcmEnabled'; data: Record<string, never> }
  | { type: 'AcmDisabled'; data: { because: 'requested' | 'certificate-uploaded' | 'certificate-removed' } }
  | { type: 'DomainAttached'; data: { hostname: string } }
  | { type: 'DomainDetached'; data: { hostname: string } }
  | { type: 'DatabaseAttached'; data: { database: string; hostname: string; port: number } }
  | { type: 'DatabaseDetached'; data: { database: string } }
  | { type: 'CertificateUploaded'; data: { certificateArn: string; info: CertificateInfo } }
  | { type: 'CertificateReplaced'; data: { certificateArn: string; info: CertificateInfo } }
  | { type: 'UploadedCertificateRemoved'; data: { name: string; certificateArn: string } }
  /** Owners were told that an uploaded certificate, which nobody renews for them, is close to expiry. */
  | { type: 'UploadExpiryNoticeSent'; data: ExpiryNoticeData & { name: string } }
  /** The owner chose the TLS policy the edge applies to the app's domains. */
  | { type: 'TlsPolicyChanged'; data: { policy: TlsPolicyName; previous: TlsPolicyName } }
  | { type: 'AppDeleted'; data: Record<string, never> };

export type ClaimEvent = { type: 'HostnameClaimed'; data: { app: string } } | { type: 'HostnameReleased'; data: { app: string } };

/** The platform's EventBridge `detail-type`s this service acts on. */
export const PLATFORM_EVENT_TYPES = ['DomainAdded', 'DomainRemoved', 'AppDeleted', 'DatabaseAdded', 'DatabaseRemoved'] as const;

export type ReceiptEvent = {
  type: 'PlatformEventReceived';
  data: { detailType: string; app: string; hostname?: string; database?: string };
};

/** A rate-limit bucket's stream: every event carries the bucket's whole state (its GCRA instant); its correlationId names who spent. */
export type BucketEvent =
  | { type: 'RateLimitTokenTaken'; data: { tat: string } }
  /** The CA refused with a rate limit our ledger did not predict: its Retry-After wins. */
  | { type: 'RateLimitReportedByCa'; data: { tat: string; retryAfter: string } };

/** Not a secret: the account's URL is what CAA `accounturi` (RFC 8657) names. */
export type AccountEvent = { type: 'AcmeAccountInUse'; data: { accountUrl: string } };

export type StreamEvent = DomainEvent | AppEvent | ClaimEvent | ReceiptEvent | AccountEvent | BucketEvent;

/** An event as stored: the envelope around the fact. */
export type RecordedEvent<E extends StreamEvent = DomainEvent> = E & {
  streamId: string;
  version: number;
  at: string;
  schemaVersion: number;
  correlationId: string;
  causationId?: string;
};

export const SCHEMA_VERSION = 1;

export const streamIds = {
  domain: (app: string, hostname: string) => `domain#${app}#${hostname}`,
  /** The domain a stream id names; undefined for the other streams. */
  domainOf: (streamId: string): { app: string; hostname: string } | undefined => {
    const [kind, app, hostname] = streamId.split('#');
    return kind === 'domain' && app && hostname ? { app, hostname } : undefined;
  },
  app: (app: string) => `app#${app}`,
  /** The app an app stream id names; undefined for the other streams. */
  appOf: (streamId: string): string | undefined => {
    const [kind, app, ...rest] = streamId.split('#');
    return kind === 'app' && app && rest.length === 0 ? app : undefined;
  },
  hostname: (hostname: string) => `hostname#${hostname}`,
  receipt: (eventId: string) => `receipt#${eventId}`,
  caAccount: () => 'ca-account',
  bucket: (bucketId: string) => `bucket#${bucketId}`,
};
