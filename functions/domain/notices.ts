// What owners are told before their users notice, now that Let's Encrypt sends no expiry
// email: a certificate close to expiry, at fixed thresholds, once each. Pure: the sweep
// decides from the log and the clock, then publishes, then records.
const DAY_MS = 24 * 60 * 60_000;

/** A managed certificate is renewed about 30 days ahead: one still serving this close to expiry is not renewing. */
export const MANAGED_EXPIRY_THRESHOLDS_DAYS = [14, 7, 1] as const;
/** An uploaded certificate is never renewed for its owner: told earlier. */
export const UPLOADED_EXPIRY_THRESHOLDS_DAYS = [30, 7, 1] as const;

export type NoticeType = 'CertificateIssuanceFailing' | 'CertificateExpiring';

/** A notice as the log records it and the status shows it. */
export interface SentNotice {
  notificationId: string;
  type: NoticeType;
  sentAt: string;
  /** Expiry notices: the threshold crossed, the whole days left when sent, and the expiry. */
  threshold?: number;
  daysLeft?: number;
  expiresAt?: string;
  /** An uploaded certificate's name. */
  certificateName?: string;
}

/** What a stream keeps of its notices: the latest few, for the status and the console. */
export const KEPT_NOTICES = 10;

export function keepNotice(notices: readonly SentNotice[], notice: SentNotice): SentNotice[] {
  return [...notices, notice].slice(-KEPT_NOTICES);
}

export interface ExpiryNotice {
  threshold: number;
  daysLeft: number;
}

/**
 * The notice due now for a certificate expiring at `expiresAt`, given the thresholds already
 * sent for it: the smallest threshold crossed, unless it (or a smaller one) was sent. A sweep
 * that was down past a threshold sends the latest one only; past expiry the last one says so.
 */
export function expiryNoticeDue(
  expiresAt: string,
  sent: readonly number[],
  thresholds: readonly number[],
  now: Date,
): ExpiryNotice | undefined {
  const left = Date.parse(expiresAt) - now.getTime();
  const crossed = thresholds.filter((days) => left <= days * DAY_MS);
  if (crossed.length === 0) return undefined;
  const threshold = Math.min(...crossed);
  if (sent.some((days) => days <= threshold)) return undefined;
  return { threshold, daysLeft: Math.max(0, Math.floor(left / DAY_MS)) };
}

/** When the next expiry notice falls due, for the sweep's index; undefined once the last was sent. */
export function nextExpiryNoticeAt(expiresAt: string, sent: readonly number[], thresholds: readonly number[]): string | undefined {
  const smallestSent = Math.min(...sent);
  const pending = thresholds.filter((days) => days < smallestSent);
  if (pending.length === 0) return undefined;
  return new Date(Date.parse(expiresAt) - Math.max(...pending) * DAY_MS).toISOString();
}

/**
 * A managed certificate is "not renewing" once its renewal is late: past its renewal time by a
 * tenth of what was left then (3 days for a 90-day certificate, under an hour for a 6-day one).
 * Before that, a certificate with few days left (a short-lived one) is renewing as it should.
 */
export function renewalLateAt(renewsAt: string, expiresAt: string): string {
  const renews = Date.parse(renewsAt);
  return new Date(renews + Math.max(0, Date.parse(expiresAt) - renews) / 10).toISOString();
}

/** Notification ids are stable per notice: consumers drop repeats of an at-least-once delivery. */
export const notificationIds = {
  failing: (streamId: string, failingSince: string) => `${streamId}#failing#${failingSince}`,
  expiring: (streamId: string, certificateArn: string, threshold: number) => `${streamId}#expiring#${certificateArn}#${threshold}`,
};
