// The local cloud's notifications: printed, and kept for tests to read.
import type { IssuanceFailingNotice, Notifications } from './notifications.ts';

export class LocalNotifications implements Notifications {
  readonly sent: IssuanceFailingNotice[] = [];

  async issuanceFailing(notice: IssuanceFailingNotice): Promise<void> {
    this.sent.push(notice);
    console.log(
      `notification CertificateIssuanceFailing: ${notice.app}/${notice.hostname} failing since ${notice.failingSince} (${notice.reason ?? 'no reason'})`,
    );
  }
}
