import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { renewsAt } from '../../functions/domain/renewal.ts';
import { added, at, certificate, failed, given, installed, requested, T0 } from './given.ts';

const DAY = 24 * 60 * 60_000;
const issuedAt = (days: number) => ({ notBefore: T0.toISOString(), notAfter: new Date(T0.getTime() + days * DAY).toISOString() });

test('a certificate of 90 days or more renews 30 days before it expires', () => {
  assert.equal(renewsAt(issuedAt(90)), new Date(T0.getTime() + 60 * DAY).toISOString());
  assert.equal(renewsAt(issuedAt(365)), new Date(T0.getTime() + 335 * DAY).toISOString());
});

test('a shorter certificate renews once a third of its lifetime remains', () => {
  assert.equal(renewsAt(issuedAt(6)), new Date(T0.getTime() + 4 * DAY).toISOString());
  assert.equal(renewsAt(issuedAt(45)), new Date(T0.getTime() + 30 * DAY).toISOString());
});

describe('the sweep asks the decider', () => {
  const issued = [added, requested(1), ...installed(1)];
  const due = new Date(renewsAt(certificate));

  test('nothing before the renewal is due', () => {
    given(...issued)
      .when({ type: 'RenewIfDue' }, new Date(due.getTime() - 1))
      .then();
  });

  test('once due: RenewalDue, then the next attempt, triggered by renewal', () => {
    given(...issued)
      .when({ type: 'RenewIfDue' }, due)
      .then(
        { type: 'RenewalDue', data: { certificateArn: 'arn:cert/1', notAfter: certificate.notAfter, renewsAt: due.toISOString() } },
        { type: 'IssuanceRequested', data: { attempt: 2, trigger: 'renewal' } },
      );
  });

  test('not while an attempt runs, nor after a renewal failed for good (that waits for refresh)', () => {
    given(...issued, requested(2, 'renewal'))
      .when({ type: 'RenewIfDue' }, due)
      .then();
    given(...issued, requested(2, 'renewal'), failed(2, true))
      .when({ type: 'RenewIfDue' }, due)
      .then();
  });

  test('owners are told once, after failing for the notify period since the first failure', () => {
    const failing = [added, requested(1), failed(1, false, 0), failed(1, true, 30)];
    given(...failing)
      .when({ type: 'NotifyIfFailingTooLong' }, at(3 * 24 * 60 - 1))
      .then();
    given(...failing)
      .when({ type: 'NotifyIfFailingTooLong' }, at(3 * 24 * 60))
      .then({ type: 'FailureNotified', data: { failingSince: T0.toISOString() } });
    given(...failing, { type: 'FailureNotified', data: { failingSince: T0.toISOString() } })
      .when({ type: 'NotifyIfFailingTooLong' }, at(4 * 24 * 60))
      .then();
  });
});
