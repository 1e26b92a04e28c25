// The facts a domain's certificate stream records. Past tense, append-only.
import type { FailureReason } from './failure-reasons.ts';

/** One DNS answer that led to a decision, kept so the timeline explains itself. */
export interface DnsAnswer {
  name: string;
  type: 'A' | 'AAAA' | 'CNAME' | 'CAA' | 'TXT';
  data: string;
}

export type IssuanceTrigger = 'domain-added' | 'refresh' | 'renewal';

export type DomainEvent =
  | { type: 'DomainAdded'; data: { app: string; hostname: string; dnsTarget: string } }
  | { type: 'IssuanceRequested'; data: { attempt: number; trigger: IssuanceTrigger } }
  | { type: 'DnsVerified'; data: { attempt: number; answers: DnsAnswer[] } }
  | { type: 'DnsCheckFailed'; data: { attempt: number; reason: FailureReason; message: string; answers: DnsAnswer[] } }
  | {
      type: 'OrderCreated';
      data: { attempt: number; orderUrl: string; authorizationUrl: string; challengeUrl: string; token: string };
    }
  | { type: 'ChallengePublished'; data: { attempt: number; token: string } }
  | { type: 'ChallengeValidated'; data: { attempt: number; challengeUrl: string } }
  | {
      type: 'CertificateIssued';
      data: { attempt: number; serialNumber: string; issuer: string; notBefore: string; notAfter: string; fingerprint256: string };
    }
  | { type: 'CertificateInstalled'; data: { attempt: number; certificateArn: string; notBefore: string; notAfter: string } }
  | { type: 'RateLimited'; data: { attempt: number; until: string; problem?: unknown } }
  | { type: 'RenewalDue'; data: { certificateArn: string; notAfter: string; renewsAt: string } }
  | { type: 'FailureNotified'; data: { failingSince: string } }
  | {
      type: 'IssuanceFailed';
      data: {
        attempt: number;
        /** Absent when the cause is not one a person can act on (e.g. the CA's own outage). */
        reason?: FailureReason;
        message: string;
        retryable: boolean;
        final: boolean;
        /** The raw ACME problem document or error, when there was one. */
        problem?: unknown;
      };
    }
  | { type: 'DomainRemoved'; data: Record<string, never> };

export type DomainEventType = DomainEvent['type'];

/** An event as stored: the envelope around the fact. */
export type RecordedEvent<E extends DomainEvent = DomainEvent> = E & {
  streamId: string;
  version: number;
  at: string;
  schemaVersion: number;
  correlationId: string;
  causationId?: string;
};

export const SCHEMA_VERSION = 1;

export function domainStreamId(app: string, hostname: string): string {
  return `domain#${app}#${hostname}`;
}
