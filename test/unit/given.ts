// given(events).when(command).then(events): the deciders read as stories.
import assert from 'node:assert/strict';
import { decideApp, foldApp, type AppCommand } from '../../functions/domain/app-decider.ts';
import { decide, fold, type DomainCommand, type RetryPolicy } from '../../functions/domain/certificate-decider.ts';
import type { AppEvent, DomainEvent } from '../../functions/domain/events.ts';

export const policy: RetryPolicy = {
  failingWindowMs: 60 * 60_000,
  firstRetryDelayMs: 60_000,
  maxRetryDelayMs: 900_000,
  notifyAfterMs: 3 * 24 * 60 * 60_000,
};
export const T0 = new Date('2026-11-22T10:00:00.000Z');

type TimedEvent = DomainEvent & { at?: string };

export function given(...history: TimedEvent[]) {
  const state = fold(history);
  return {
    state,
    when(command: DomainCommand, now: Date = T0) {
      return {
        /** Expected events may carry `at` (they are history fixtures too); decisions have none. */
        then(...expected: TimedEvent[]) {
          assert.deepEqual(
            decide(command, state, now, policy),
            expected.map(({ at: _at, ...event }) => event),
          );
        },
        thenThrows(errorName: string) {
          assert.throws(() => decide(command, state, now, policy), { name: errorName });
        },
      };
    },
  };
}

export const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

export const added: TimedEvent = {
  type: 'DomainAdded',
  data: { app: 'demo', hostname: 'www.example.com', dnsTarget: 'demo.edge.example.net' },
  at: T0.toISOString(),
};
export const requested = (attempt = 1, trigger: 'domain-added' | 'refresh' | 'renewal' = 'domain-added'): TimedEvent => ({
  type: 'IssuanceRequested',
  data: { attempt, trigger },
  at: T0.toISOString(),
});
export const dnsVerified = (attempt = 1): TimedEvent => ({ type: 'DnsVerified', data: { attempt, answers: [] }, at: T0.toISOString() });
export const order = {
  orderUrl: 'https://ca/order/1',
  authorizationUrl: 'https://ca/authz/1',
  challengeUrl: 'https://ca/chall/1',
  token: 'tok',
};
export const orderCreated = (attempt = 1): TimedEvent => ({ type: 'OrderCreated', data: { attempt, ...order }, at: T0.toISOString() });
export const certificate = {
  serialNumber: '01',
  issuer: 'CN=Pebble Intermediate',
  notBefore: '2026-11-22T10:00:00.000Z',
  notAfter: '2027-02-20T10:00:00.000Z',
  fingerprint256: 'AA:BB',
};
export const installed = (attempt = 1, ariId?: string): TimedEvent[] => [
  { type: 'CertificateIssued', data: { attempt, ...certificate, ...(ariId && { ariId }) }, at: T0.toISOString() },
  { type: 'CertificateInstalling', data: { attempt, installId: `install-${attempt}` }, at: T0.toISOString() },
  {
    type: 'CertificateInstalled',
    data: { attempt, certificateArn: 'arn:cert/1', notBefore: certificate.notBefore, notAfter: certificate.notAfter },
    at: T0.toISOString(),
  },
];
export const failed = (attempt: number, final: boolean, minutes = 0): TimedEvent => ({
  type: 'IssuanceFailed',
  data: { attempt, reason: 'DNS_TIMEOUT', message: 'timed out', retryable: true, final },
  at: at(minutes).toISOString(),
});

/** The same story for an app's stream. */
export function givenApp(...history: AppEvent[]) {
  const state = foldApp(history);
  return {
    state,
    when(command: AppCommand) {
      return {
        then(...expected: AppEvent[]) {
          assert.deepEqual(decideApp(command, state), expected);
        },
        thenThrows(errorName: string, message?: RegExp) {
          assert.throws(() => decideApp(command, state), { name: errorName, ...(message && { message }) });
        },
      };
    },
  };
}
