// The port: telling owners, operators and the platform's edge what needs them. Each event
// carries a `notificationId` stable per notice: consumers drop repeats of an at-least-once delivery.
import type { TlsPolicySetting } from '../../domain/tls-policy.ts';

export interface IssuanceFailingNotice {
  notificationId: string;
  app: string;
  hostname: string;
  failingSince: string;
  reason?: string;
  message?: string;
}

/** A certificate close to expiry: a managed one not renewed in time, or an uploaded one (never renewed for its owner). */
export interface CertificateExpiringNotice {
  notificationId: string;
  app: string;
  managed: boolean;
  /** The managed certificate's domain, or the uploaded certificate's name. */
  hostname?: string;
  certificateName?: string;
  certificateArn: string;
  expiresAt: string;
  /** The threshold crossed (14, 7 or 1 days for managed; 30, 7 or 1 for uploaded) and the whole days left. */
  threshold: number;
  daysLeft: number;
  /** Managed: why it is not renewing, when an attempt failed. */
  reason?: string;
  message?: string;
}

/** For the edge: apply this policy to the app's domains from the next handshake on. */
export interface TlsPolicyChangedEvent extends TlsPolicySetting {
  notificationId: string;
  app: string;
  /** The app stream's version that recorded it: an edge applies a change only if it is newer than the one it has. */
  version: number;
  /** The app's custom domains when it changed (the edge knows its own routing; this is a convenience). */
  hostnames: string[];
}

export interface Notifications {
  issuanceFailing(notice: IssuanceFailingNotice): Promise<void>;
  certificateExpiring(notice: CertificateExpiringNotice): Promise<void>;
  tlsPolicyChanged(event: TlsPolicyChangedEvent): Promise<void>;
}
