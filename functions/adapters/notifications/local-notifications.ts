// The local cloud's notifications: in the local cloud's log, and kept for tests to read.
import type { Log } from '../../application/ports.ts';
import type { CertificateExpiringNotice, IssuanceFailingNotice, Notifications } from './notifications.ts';

export type SentNotification =
  | ({ detailType: 'CertificateIssuanceFailing' } & IssuanceFailingNotice)
  | ({ detailType: 'CertificateExpiring' } & CertificateExpiringNotice);

export class LocalNotifications implements Notifications {
  readonly sent: SentNotification[] = [];

  constructor(private readonly log: Log) {}

  async issuanceFailing(notice: IssuanceFailingNotice): Promise<void> {
    this.record({ detailType: 'CertificateIssuanceFailing', ...notice });
  }

  async certificateExpiring(notice: CertificateExpiringNotice): Promise<void> {
    this.record({ detailType: 'CertificateExpiring', ...notice });
  }

  private record(notification: SentNotification): void {
    this.sent.push(notification);
    this.log.info(`notification ${notification.detailType}`, { ...notification });
  }
}
