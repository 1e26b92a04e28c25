import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fold } from '../../functions/domain/certificate-decider.ts';
import { certificateStatus, sweepDueAt } from '../../functions/domain/status.ts';
import { added, dnsVerified, failed, installed, orderCreated, requested } from './given.ts';

const statusAfter = (...histories: Parameters<typeof fold>[0][]) => certificateStatus(fold(histories.flatMap((history) => [...history])));

test('the status words follow the workflow', () => {
  assert.equal(statusAfter([added])?.status, 'Waiting');
  assert.equal(statusAfter([added, requested(1)])?.status, 'In Progress');
  assert.equal(statusAfter([added, requested(1), dnsVerified(1)])?.status, 'DNS Verified');
  assert.equal(statusAfter([added, requested(1), dnsVerified(1), orderCreated(1)])?.status, 'DNS Verified');
  const issued = statusAfter([added, requested(1), dnsVerified(1), orderCreated(1)], installed(1));
  assert.equal(issued?.status, 'Cert Issued');
  assert.equal(issued?.expiresAt, '2027-02-20T10:00:00.000Z');
});

test('a failure shows its reason and message: Failing while retrying, Failed when final', () => {
  const failing = statusAfter([added, requested(1), failed(1, false)]);
  assert.deepEqual([failing?.status, failing?.reason, failing?.message], ['Failing', 'DNS_TIMEOUT', 'timed out']);
  // A retry that gets further is still Failing until it succeeds.
  assert.equal(statusAfter([added, requested(1), failed(1, false), dnsVerified(1)])?.status, 'Failing');
  assert.equal(statusAfter([added, requested(1), failed(1, false), failed(1, true)])?.status, 'Failed');
});

test('a renewal in flight keeps showing the serving certificate', () => {
  const renewing = statusAfter([added, requested(1), dnsVerified(1), orderCreated(1)], installed(1), [
    requested(2, 'renewal'),
    dnsVerified(2),
  ]);
  assert.equal(renewing?.status, 'Cert Issued');
  assert.equal(renewing?.expiresAt, '2027-02-20T10:00:00.000Z');
});

test('a domain never added has no status', () => {
  assert.equal(statusAfter([]), undefined);
});

test('an order the ledger holds back is Waiting, RATE_LIMITED, predicted, until the refill', () => {
  const deferral = {
    attempt: 1,
    until: '2026-11-23T19:36:00.000Z',
    limit: 'newOrdersPerAccount',
    bucket: 'acct',
    message: 'waits',
  } as const;
  const status = certificateStatus(fold([added, requested(1), dnsVerified(1), { type: 'OrderDeferred', data: deferral }]));
  assert.deepEqual(
    [status?.status, status?.reason, status?.rateLimitedUntil, status?.rateLimitPredicted, status?.message],
    ['Waiting', 'RATE_LIMITED', deferral.until, true, 'waits'],
  );
});

test("the sweep's index holds a domain only while something is due: an open attempt, renewal, ARI check, failing notice", () => {
  const policy = { notifyAfterMs: 3 * 24 * 60 * 60_000 };
  const open = fold([added, requested(1)]);
  assert.equal(sweepDueAt(open, policy), open.updatedAt, 'an open attempt: the reconciler checks an execution runs it');
  const issued = fold([added, requested(1), ...installed(1)]);
  assert.equal(sweepDueAt(issued, policy), issued.certificate!.renewsAt);
  const withAri = fold([added, requested(1), ...installed(1, 'aki.serial')]);
  assert.equal(sweepDueAt(withAri, policy), withAri.certificate!.renewalCheckAt, 'the first ARI look comes first');
  const failedForGood = fold([added, requested(1), failed(1, true)]);
  assert.equal(
    sweepDueAt(failedForGood, policy),
    new Date(Date.parse(failedForGood.failingSince!) + policy.notifyAfterMs).toISOString(),
    'closed: only the notice is due',
  );
  const notified = fold([
    added,
    requested(1),
    failed(1, true),
    { type: 'FailureNotified', data: { failingSince: failedForGood.failingSince! } },
  ]);
  assert.equal(sweepDueAt(notified, policy), undefined, 'told once, nothing open: no longer due');
});

test('an attempt that failed for good, whatever started it, leaves the sweep alone until a refresh', () => {
  const policy = { notifyAfterMs: 3 * 24 * 60 * 60_000 };
  const refreshedAndFailed = fold([added, requested(1), ...installed(1), requested(2, 'refresh'), failed(2, true)]);
  const due = sweepDueAt(refreshedAndFailed, policy);
  // Only the failing notice is still due, not the renewal.
  assert.equal(due, new Date(Date.parse(refreshedAndFailed.failingSince!) + policy.notifyAfterMs).toISOString());
});
