// The port: telling owners and operators what needs them.

export interface IssuanceFailingNotice {
  /** Stable per failing episode: consumers drop repeats of an at-least-once delivery. */
  notificationId: string;
  app: string;
  hostname: string;
  failingSince: string;
  reason?: string;
  message?: string;
}

export interface Notifications {
  issuanceFailing(notice: IssuanceFailingNotice): Promise<void>;
}
