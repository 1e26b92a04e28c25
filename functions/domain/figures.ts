// What the log says in numbers: the figures each recorded event adds to the operators'
// metrics. Derived from the events like the status, by the projector that reads them.
import type { DomainState } from './certificate-decider.ts';
import type { DomainEvent } from './events.ts';

/** CloudWatch namespace of the service's own metrics: the handlers write them there, the stack's alarms read them. */
export const METRICS_NAMESPACE = 'AcmAutomation';

export interface Figure {
  name: 'CertificatesIssued' | 'CertificatesRenewed' | 'IssuanceFailures' | 'RateLimitWaits' | 'TimeToIssued';
  dimensions: Record<string, string>;
  /** A reading (milliseconds for TimeToIssued); a count of one without it. */
  value?: number;
}

/** `before`: the stream's state just before the event. */
export function figuresOf(event: DomainEvent & { at?: string }, before: DomainState): Figure[] {
  switch (event.type) {
    case 'CertificateInstalled': {
      if (before.attempt?.trigger === 'renewal') return [{ name: 'CertificatesRenewed', dimensions: {} }];
      const waited = before.waitingSince && event.at ? Date.parse(event.at) - Date.parse(before.waitingSince) : undefined;
      // From added (or enabled) to installed: what an owner waits for a first certificate.
      return [
        { name: 'CertificatesIssued', dimensions: {} },
        ...(waited === undefined ? [] : [{ name: 'TimeToIssued', dimensions: {}, value: waited } as const]),
      ];
    }
    case 'IssuanceFailed':
      // No reason: nobody can act on the cause (an outage, a bug); counted as such.
      return [{ name: 'IssuanceFailures', dimensions: { reason: event.data.reason ?? 'UNEXPLAINED' } }];
    case 'RateLimited':
      return [{ name: 'RateLimitWaits', dimensions: { kind: 'real' } }];
    case 'OrderDeferred':
      return [{ name: 'RateLimitWaits', dimensions: { kind: 'predicted' } }];
    default:
      return [];
  }
}

/** Whole days a certificate has left, for the soonest-expiry alarm (its minimum over the sweep). */
export function daysToExpiry(notAfter: string, now: Date): number {
  return Math.floor((Date.parse(notAfter) - now.getTime()) / (24 * 60 * 60_000));
}
