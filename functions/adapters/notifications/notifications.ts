// The port: telling owners and operators what needs them. Each notice carries a
// `notificationId` stable per notice: consumers drop repeats of an at-least-once delivery.

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

export interface Notifications {
  issuanceFailing(notice: IssuanceFailingNotice): Promise<void>;
  certificateExpiring(notice: CertificateExpiringNotice): Promise<void>;
}
