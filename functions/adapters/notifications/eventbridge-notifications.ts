// Notifications as EventBridge events, for whatever the platform routes them to.
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { CertificateExpiringNotice, IssuanceFailingNotice, Notifications, TlsPolicyChangedEvent } from './notifications.ts';

/** The `source` of every event this service puts on EventBridge. */
export const EVENT_SOURCE = 'acm-automation';

/** Puts one of this service's events on the bus (the default bus when unset). */
export async function putServiceEvent(
  client: EventBridgeClient,
  eventBusName: string | undefined,
  detailType: string,
  detail: object,
): Promise<void> {
  const { FailedEntryCount, Entries } = await client.send(
    new PutEventsCommand({
      Entries: [
        {
          Source: EVENT_SOURCE,
          DetailType: detailType,
          Detail: JSON.stringify(detail),
          ...(eventBusName && { EventBusName: eventBusName }),
        },
      ],
    }),
  );
  if (FailedEntryCount) throw new Error(`EventBridge refused ${detailType}: ${Entries?.[0]?.ErrorMessage ?? 'no reason given'}`);
}

export class EventBridgeNotifications implements Notifications {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly eventBusName: string | undefined,
  ) {}

  issuanceFailing(notice: IssuanceFailingNotice): Promise<void> {
    return putServiceEvent(this.client, this.eventBusName, 'CertificateIssuanceFailing', notice);
  }

  certificateExpiring(notice: CertificateExpiringNotice): Promise<void> {
    return putServiceEvent(this.client, this.eventBusName, 'CertificateExpiring', notice);
  }

  tlsPolicyChanged(event: TlsPolicyChangedEvent): Promise<void> {
    return putServiceEvent(this.client, this.eventBusName, 'TlsPolicyChanged', event);
  }
}
