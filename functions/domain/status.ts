// The status people read, derived from a domain's stream state: the exact words
// of the platform's Automated Certificate Management.
import type { DomainState, RetryPolicy } from './certificate-decider.ts';
import type { FailureReason } from './failure-reasons.ts';
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
}

/** Undefined when the domain is not (or no longer) managed. */
export function domainStatus(state: DomainState): DomainStatus | undefined {
  if (!state.domain || state.removed || !state.updatedAt) return undefined;
  const base = {
    hostname: state.domain.hostname,
    dnsTarget: state.domain.dnsTarget,
    lastUpdated: state.updatedAt,
    ...(state.certificate && certificateDates(state.certificate)),
    ...(state.failingSince && { failingSince: state.failingSince }),
  };
  const attempt = state.attempt;
  if (state.automationOff) {
    return { ...base, status: 'Waiting', message: 'Automated certificates are off for this app; enable them to issue again.' };
  }
  if (!attempt) return { ...base, status: 'Waiting' };
  if (attempt.failure) {
    const { reason, message, final, rateLimitedUntil } = attempt.failure;
    return {
      ...base,
      status: final ? 'Failed' : 'Failing',
      ...(reason && { reason }),
      message,
      ...(rateLimitedUntil && { rateLimitedUntil }),
    };
  }
  // A renewal in flight keeps the certificate that is serving as the status.
  if (state.certificate && (attempt.stage === 'installed' || attempt.trigger === 'renewal')) {
    return { ...base, status: 'Cert Issued' };
  }
  if (attempt.deferral && !attempt.closed) {
    const { until, message } = attempt.deferral;
    return { ...base, status: 'Waiting', reason: 'RATE_LIMITED', message, rateLimitedUntil: until, rateLimitPredicted: true };
  }
  return { ...base, status: attempt.stage === 'requested' ? 'In Progress' : 'DNS Verified' };
}

function certificateDates(certificate: NonNullable<DomainState['certificate']>) {
  const { notAfter, renewsAt, renewalWindow, explanationUrl } = certificate;
  return { expiresAt: notAfter, renewsAt, ...(renewalWindow && { renewalWindow }), ...(explanationUrl && { explanationUrl }) };
}

/**
 * When the sweep must next look at a domain: its renewal, its next ARI check, or the
 * moment its failing episode is long enough to tell the owners. Undefined when nothing
 * is due ever (no certificate, nothing failing): such a domain is not in the sweep's index.
 */
export function sweepDueAt(state: DomainState, policy: Pick<RetryPolicy, 'notifyAfterMs'>): string | undefined {
  if (!state.domain || state.removed) return undefined;
  const times: number[] = [];
  const { certificate, attempt } = state;
  // An attempt that failed for good waits for a refresh, not for the sweep (as RenewIfDue decides).
  const renewalStopped = attempt?.failure?.final;
  if (certificate && !renewalStopped) times.push(Date.parse(certificate.renewsAt));
  if (certificate?.renewalCheckAt) times.push(Date.parse(certificate.renewalCheckAt));
  if (state.failingSince && !state.failureNotified) times.push(Date.parse(state.failingSince) + policy.notifyAfterMs);
  return times.length > 0 ? new Date(Math.min(...times)).toISOString() : undefined;
}
