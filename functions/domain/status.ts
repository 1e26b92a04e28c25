// The status people read, derived from a domain's stream state: the exact words
// of the platform's Automated Certificate Management.
import type { DomainState, RetryPolicy } from './certificate-decider.ts';
import type { FailureReason } from './failure-reasons.ts';
import { MANAGED_EXPIRY_THRESHOLDS_DAYS, nextExpiryNoticeAt, renewalLateAt, type SentNotice } from './notices.ts';
import type { RenewalWindow } from './renewal.ts';

export const STATUS_WORDS = ['Cert Issued', 'In Progress', 'DNS Verified', 'Waiting', 'Failing', 'Failed'] as const;
export type StatusWord = (typeof STATUS_WORDS)[number];
/** Where a domain rests until something changes: nothing runs. */
export const SETTLED_STATUSES: readonly StatusWord[] = ['Cert Issued', 'Failed'];
/** What a refresh retries. */
export const REFRESHABLE_STATUSES: readonly StatusWord[] = ['Failing', 'Failed'];

export interface DomainStatus {
  hostname: string;
  status: StatusWord;
  reason?: FailureReason;
  message?: string;
  lastUpdated: string;
  expiresAt?: string;
  rateLimitedUntil?: string;
  dnsTarget: string;
  /** When the serving certificate will be renewed. */
  renewsAt?: string;
  /** The CA's suggested renewal window (ARI), and the page that explains it when it moved. */
  renewalWindow?: RenewalWindow;
  explanationUrl?: string;
  /** Since when issuance has been failing, across attempts. */
  failingSince?: string;
  /** The rate limit was foreseen by our ledger: the order waits for budget, the CA was not asked. */
  rateLimitPredicted?: boolean;
  /** What owners were told about this domain (failing for days, expiring), latest last. */
  notices?: SentNotice[];
}

/** A database's certificate: a domain's status words, plus Disabled (enhanced certificates off). */
export type DatabaseStatusWord = StatusWord | 'Disabled';

/** A database's row in the status projection: the fields of a domain's, and the database it is for. */
export interface DatabaseCertificateRow extends Omit<DomainStatus, 'status' | 'dnsTarget'> {
  status: DatabaseStatusWord;
  database: string;
  port: number;
  enabled: boolean;
  servedRoot?: string;
  availableRoots: string[];
}

/** One row of the status projection, per (app, hostname). */
export type StatusRow = DomainStatus | DatabaseCertificateRow;

export const isDatabaseRow = (row: StatusRow): row is DatabaseCertificateRow => 'database' in row;

/** Undefined when the hostname is not (or no longer) managed. */
export function certificateStatus(state: DomainState): StatusRow | undefined {
  if (!state.domain || !state.updatedAt) return undefined;
  const { hostname, dnsTarget = '', database } = state.domain;
  if (state.removed) {
    // Gone from the app; a row stays while its certificate is still to delete, so the sweep retries it.
    const [pending] = state.pendingRemovals;
    if (!pending || database) return undefined;
    const message = `Removed; its certificate is still in use (${pending.reason}), so deleting it is retried at ${pending.retryAt}.`;
    return { hostname, dnsTarget, lastUpdated: state.updatedAt, status: 'Waiting', message };
  }
  const base = {
    hostname,
    lastUpdated: state.updatedAt,
    ...(state.certificate && certificateDates(state.certificate)),
    ...(state.failingSince && { failingSince: state.failingSince }),
    ...(state.notices.length > 0 && { notices: state.notices }),
  };
  if (!database) {
    if (state.automationOff) {
      return { ...base, dnsTarget, status: 'Waiting', message: 'Automated certificates are off for this app; enable them to issue again.' };
    }
    return { ...base, dnsTarget, ...attemptStatus(state) };
  }
  const { servedRoot, availableRoots = [] } = state.certificate ?? {};
  const row = { ...base, database: database.name, port: database.port, enabled: !state.automationOff, availableRoots };
  if (state.automationOff) {
    return { ...row, status: 'Disabled', message: 'Enhanced certificates are off: the database serves its platform-signed certificate.' };
  }
  return { ...row, ...(servedRoot && { servedRoot }), ...attemptStatus(state) };
}

/** Where the current attempt stands, in the status words people read. */
function attemptStatus(
  state: DomainState,
): Pick<DomainStatus, 'status' | 'reason' | 'message' | 'rateLimitedUntil' | 'rateLimitPredicted'> {
  const attempt = state.attempt;
  if (!attempt) return { status: 'Waiting' };
  if (attempt.failure) {
    const { reason, message, final, rateLimitedUntil } = attempt.failure;
    return { status: final ? 'Failed' : 'Failing', ...(reason && { reason }), message, ...(rateLimitedUntil && { rateLimitedUntil }) };
  }
  // A renewal in flight keeps the certificate that is serving as the status.
  if (state.certificate && (attempt.stage === 'installed' || attempt.trigger === 'renewal')) return { status: 'Cert Issued' };
  if (attempt.deferral && !attempt.closed) {
    const { until, message } = attempt.deferral;
    return { status: 'Waiting', reason: 'RATE_LIMITED', message, rateLimitedUntil: until, rateLimitPredicted: true };
  }
  return { status: attempt.stage === 'requested' ? 'In Progress' : 'DNS Verified' };
}

function certificateDates(certificate: NonNullable<DomainState['certificate']>) {
  const { notAfter, renewsAt, renewalWindow, explanationUrl } = certificate;
  return { expiresAt: notAfter, renewsAt, ...(renewalWindow && { renewalWindow }), ...(explanationUrl && { explanationUrl }) };
}

/**
 * When the sweep must next look at a domain: its renewal, its next ARI check, its next
 * expiry notice, or the moment its failing episode is long enough to tell the owners. Undefined when nothing
 * is due ever (no certificate, nothing failing): such a domain is not in the sweep's index.
 */
export function sweepDueAt(state: DomainState, policy: Pick<RetryPolicy, 'notifyAfterMs'>): string | undefined {
  if (!state.domain) return undefined;
  const times = state.pendingRemovals.map((removal) => Date.parse(removal.retryAt));
  if (state.removed) return times.length > 0 ? new Date(Math.min(...times)).toISOString() : undefined;
  const { certificate, attempt } = state;
  // An attempt that failed for good waits for a refresh, not for the sweep (as RenewIfDue decides).
  const renewalStopped = attempt?.failure?.final;
  if (certificate && !renewalStopped) times.push(Date.parse(certificate.renewsAt));
  if (certificate?.renewalCheckAt) times.push(Date.parse(certificate.renewalCheckAt));
  const expiryNoticeAt = certificate && nextExpiryNoticeAt(certificate.notAfter, certificate.expiryNotices, MANAGED_EXPIRY_THRESHOLDS_DAYS);
  // No sooner than the renewal is late: a certificate renewing as it should is told nothing.
  if (expiryNoticeAt)
    times.push(Math.max(Date.parse(expiryNoticeAt), Date.parse(renewalLateAt(certificate.renewsAt, certificate.notAfter))));
  if (state.failingSince && !state.failureNotified) times.push(Date.parse(state.failingSince) + policy.notifyAfterMs);
  // An open attempt is always due: the reconciler checks that an execution still runs it. From when it
  // opened, not its latest event, so the row's due time does not move (and need not be written) at each step.
  const openSince = attempt?.openedAt ?? state.updatedAt;
  if (attempt && !attempt.closed && openSince) times.push(Date.parse(openSince));
  return times.length > 0 ? new Date(Math.min(...times)).toISOString() : undefined;
}
