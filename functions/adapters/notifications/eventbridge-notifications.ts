// Notifications as EventBridge events, for whatever the platform routes them to.
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { IssuanceFailingNotice, Notifications } from './notifications.ts';

const NOTIFICATION_SOURCE = 'acm-automation';

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
