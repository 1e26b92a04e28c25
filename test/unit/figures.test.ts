import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daysToExpiry, figuresOf } from '../../functions/domain/figures.ts';

test('each recorded event adds its figures: issued or renewed, failures by reason, rate-limit waits real and predicted', () => {
  const installed = { type: 'CertificateInstalled', data: { attempt: 1, certificateArn: 'a', notBefore: 'x', notAfter: 'y' } } as const;
  assert.deepEqual(figuresOf(installed, 'domain-added'), [{ name: 'CertificatesIssued', dimensions: {} }]);
  assert.deepEqual(figuresOf(installed, 'renewal'), [{ name: 'CertificatesRenewed', dimensions: {} }]);
  const failed = {
    type: 'IssuanceFailed',
    data: { attempt: 1, reason: 'CAA_FORBIDS', message: 'm', retryable: false, final: true },
  } as const;
  assert.deepEqual(figuresOf(failed, 'domain-added'), [{ name: 'IssuanceFailures', dimensions: { reason: 'CAA_FORBIDS' } }]);
  const { reason: _reason, ...unexplained } = failed.data;
  assert.deepEqual(figuresOf({ type: 'IssuanceFailed', data: unexplained }, undefined), [
    { name: 'IssuanceFailures', dimensions: { reason: 'UNEXPLAINED' } },
  ]);
  assert.deepEqual(figuresOf({ type: 'RateLimited', data: { attempt: 1, until: 'u' } }, 'renewal'), [
    { name: 'RateLimitWaits', dimensions: { kind: 'real' } },
  ]);
  const deferral = { attempt: 1, until: 'u', limit: 'certificatesPerExactSet', bucket: 'b', message: 'm' } as const;
  assert.deepEqual(figuresOf({ type: 'OrderDeferred', data: deferral }, 'renewal'), [
    { name: 'RateLimitWaits', dimensions: { kind: 'predicted' } },
  ]);
  assert.deepEqual(figuresOf({ type: 'DnsVerified', data: { attempt: 1, answers: [] } }, 'renewal'), []);
});

test('days to expiry are whole days left', () => {
  const now = new Date('2026-12-01T00:00:00.000Z');
  assert.equal(daysToExpiry('2026-12-15T12:00:00.000Z', now), 14);
  assert.equal(daysToExpiry('2026-12-01T23:00:00.000Z', now), 0);
  assert.equal(daysToExpiry('2026-11-30T00:00:00.000Z', now), -1);
});
