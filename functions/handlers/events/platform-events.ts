// The platform's events from EventBridge. DomainAdded starts issuance; a redelivered
// DomainAdded finds the domain already added and starts nothing.
import middy from '@middy/core';
import type { EventBridgeEvent } from 'aws-lambda';
import { checkHostname } from '../../domain/hostname.ts';
import { dependencies } from '../lib/dependencies.ts';
import { addDomain, dnsTargetFor } from '../lib/issuance.ts';

export interface PlatformEventDetail {
  eventId: string;
  app: string;
  hostname?: string;
  dnsTarget?: string;
}

export const handler = middy(async (event: EventBridgeEvent<string, PlatformEventDetail>) => {
  const deps = dependencies();
  const { eventId, app, hostname, dnsTarget } = event.detail;
  if (event['detail-type'] !== 'DomainAdded') return { ignored: event['detail-type'] };
  const checked = checkHostname(hostname ?? '');
  if (!checked.valid) {
    // Retrying cannot make a bad name good: log it for operators and drop it.
    console.error(JSON.stringify({ eventId, app, hostname, rejected: checked.rule }));
    return { rejected: checked.rule };
  }
  await addDomain(deps, { app, hostname: checked.hostname, dnsTarget: dnsTarget ?? dnsTargetFor(app, deps) }, `platform:${eventId}`);
  return { added: checked.hostname };
});
