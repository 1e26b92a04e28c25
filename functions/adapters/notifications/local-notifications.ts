// The local cloud's notifications: in the local cloud's log, and kept for tests to read.
import type { Log } from '../../application/ports.ts';
import type { IssuanceFailingNotice, Notifications } from './notifications.ts';

export class LocalNotifications implements Notifications {
  readonly sent: IssuanceFailingNotice[] = [];

  constructor(private readonly log: Log) {}

  async issuanceFailing(notice: IssuanceFailingNotice): Promise<void> {
    this.sent.push(notice);
    this.log.info('notification CertificateIssuanceFailing', { ...notice });
  }
}
