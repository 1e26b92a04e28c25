// Telling owners and operators what needs them: EventBridge in AWS, a list the
// local cloud prints and tests read.
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';

export const NOTIFICATION_SOURCE = 'acm-automation';

export interface IssuanceFailingNotice {
  /** Stable per failing episode: consumers drop repeats of an at-least-once delivery. */
  notificationId: string;
  app: string;
  hostname: string;
  failingSince: string;
  reason?: string;
  message?: string;
}

/** The port. */
export interface Notifications {
  issuanceFailing(notice: IssuanceFailingNotice): Promise<void>;
}

export class EventBridgeNotifications implements Notifications {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly eventBusName: string | undefined,
  ) {}

  async issuanceFailing(notice: IssuanceFailingNotice): Promise<void> {
    const { FailedEntryCount, Entries } = await this.client.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: NOTIFICATION_SOURCE,
            DetailType: 'CertificateIssuanceFailing',
            Detail: JSON.stringify(notice),
            ...(this.eventBusName && { EventBusName: this.eventBusName }),
          },
        ],
      }),
    );
    if (FailedEntryCount) throw new Error(`EventBridge refused the notification: ${Entries?.[0]?.ErrorMessage ?? 'no reason given'}`);
  }
}

export class LocalNotifications implements Notifications {
  readonly sent: IssuanceFailingNotice[] = [];

  async issuanceFailing(notice: IssuanceFailingNotice): Promise<void> {
    this.sent.push(notice);
    console.log(
      `notification CertificateIssuanceFailing: ${notice.app}/${notice.hostname} failing since ${notice.failingSince} (${notice.reason ?? 'no reason'})`,
    );
  }
}
