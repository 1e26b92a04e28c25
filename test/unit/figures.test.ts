import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fold, type DomainState } from '../../functions/domain/certificate-decider.ts';
import type { DomainEvent } from '../../functions/domain/events.ts';
import { daysToExpiry, figuresOf } from '../../functions/domain/figures.ts';

const ADDED_AT = '2026-12-01T10:00:00.000Z';
/** A domain added at ADDED_AT whose first attempt (or a renewal) is under way. */
const under = (trigger: 'domain-added' | 'renewal'): DomainState =>
  fold([
    { type: 'DomainAdded', data: { app: 'a', hostname: 'www.a.test', dnsTarget: 't' }, at: ADDED_AT },
    { type: 'IssuanceRequested', data: { attempt: 1, trigger }, at: ADDED_AT },
  ] as Array<DomainEvent & { at: string }>);

test('each recorded event adds its figures: issued or renewed, failures by reason, rate-limit waits real and predicted', () => {
  const installed = {
    type: 'CertificateInstalled',
    data: { attempt: 1, certificateArn: 'a', notBefore: 'x', notAfter: 'y' },
    at: '2026-12-01T10:00:02.500Z',
  } as const;
  // A first certificate also says how long its owner waited since the domain was added.
  assert.deepEqual(figuresOf(installed, under('domain-added')), [
    { name: 'CertificatesIssued', dimensions: {} },
    { name: 'TimeToIssued', dimensions: {}, value: 2500 },
  ]);
  assert.deepEqual(figuresOf(installed, under('renewal')), [{ name: 'CertificatesRenewed', dimensions: {} }]);
  const failed = {
    type: 'IssuanceFailed',
    data: { attempt: 1, reason: 'CAA_FORBIDS', message: 'm', retryable: false, final: true },
  } as const;
  assert.deepEqual(figuresOf(failed, under('domain-added')), [{ name: 'IssuanceFailures', dimensions: { reason: 'CAA_FORBIDS' } }]);
  const { reason: _reason, ...unexplained } = failed.data;
  assert.deepEqual(figuresOf({ type: 'IssuanceFailed', data: unexplained }, under('domain-added')), [
    { name: 'IssuanceFailures', dimensions: { reason: 'UNEXPLAINED' } },
  ]);
  assert.deepEqual(figuresOf({ type: 'RateLimited', data: { attempt: 1, until: 'u' } }, under('renewal')), [
    { name: 'RateLimitWaits', dimensions: { kind: 'real' } },
  ]);
  const deferral = { attempt: 1, until: 'u', limit: 'certificatesPerExactSet', bucket: 'b', message: 'm' } as const;
  assert.deepEqual(figuresOf({ type: 'OrderDeferred', data: deferral }, under('renewal')), [
    { name: 'RateLimitWaits', dimensions: { kind: 'predicted' } },
  ]);
  assert.deepEqual(figuresOf({ type: 'DnsVerified', data: { attempt: 1, answers: [] } }, under('renewal')), []);
});

test('days to expiry are whole days left', () => {
  const now = new Date('2026-12-01T00:00:00.000Z');
  assert.equal(daysToExpiry('2026-12-15T12:00:00.000Z', now), 14);
  assert.equal(daysToExpiry('2026-12-01T23:00:00.000Z', now), 0);
  assert.equal(daysToExpiry('2026-11-30T00:00:00.000Z', now), -1);
});
