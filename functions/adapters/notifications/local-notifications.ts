// The local cloud's notifications: in the local cloud's log, and kept for tests to read.
import type { Log } from '../../application/ports.ts';
import type { CertificateExpiringNotice, IssuanceFailingNotice, Notifications, TlsPolicyChangedEvent } from './notifications.ts';

export type SentNotification =
  | ({ detailType: 'CertificateIssuanceFailing' } & IssuanceFailingNotice)
  | ({ detailType: 'CertificateExpiring' } & CertificateExpiringNotice);

export class LocalNotifications implements Notifications {
  readonly sent: SentNotification[] = [];
  /** What the edge was told (TlsPolicyChanged), apart from the owners' notices. */
  readonly tlsPolicyChanges: TlsPolicyChangedEvent[] = [];

  constructor(private readonly log: Log) {}

  async issuanceFailing(notice: IssuanceFailingNotice): Promise<void> {
    this.record({ detailType: 'CertificateIssuanceFailing', ...notice });
  }

  async certificateExpiring(notice: CertificateExpiringNotice): Promise<void> {
    this.record({ detailType: 'CertificateExpiring', ...notice });
  }

  async tlsPolicyChanged(event: TlsPolicyChangedEvent): Promise<void> {
    this.tlsPolicyChanges.push(event);
    this.log.info('notification TlsPolicyChanged', { ...event });
  }

  private record(notification: SentNotification): void {
    this.sent.push(notification);
    this.log.info(`notification ${notification.detailType}`, { ...notification });
  }
}
