import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ariCertificateId, chooseRenewalTime, fallbackRenewsAt, nextRenewalCheck } from '../../functions/domain/renewal.ts';
import { added, at, certificate, failed, given, installed, requested, T0 } from './given.ts';

const DAY = 24 * 60 * 60_000;
const issuedAt = (days: number) => ({ notBefore: T0.toISOString(), notAfter: new Date(T0.getTime() + days * DAY).toISOString() });

test('without ARI: a 90-day certificate renews a month before it expires; any other once a third of its lifetime remains', () => {
  assert.equal(fallbackRenewsAt(issuedAt(90)), new Date(T0.getTime() + 60 * DAY).toISOString());
  assert.equal(fallbackRenewsAt(issuedAt(45)), new Date(T0.getTime() + 30 * DAY).toISOString());
  assert.equal(fallbackRenewsAt(issuedAt(365)), new Date(T0.getTime() + (365 * 2 * DAY) / 3).toISOString());
});

test('without ARI: a certificate of under 10 days renews at half its lifetime', () => {
  assert.equal(fallbackRenewsAt(issuedAt(6)), new Date(T0.getTime() + 3 * DAY).toISOString());
  assert.equal(fallbackRenewsAt(issuedAt(10)), new Date(T0.getTime() + (10 * 2 * DAY) / 3).toISOString(), '10 days is not under 10');
});

describe('ARI (RFC 9773)', () => {
  const window = { start: '2026-12-10T00:00:00.000Z', end: '2026-12-12T00:00:00.000Z' };

  test('the renewal time is drawn uniformly inside the window', () => {
    assert.equal(chooseRenewalTime(window, T0, 0), window.start);
    assert.equal(chooseRenewalTime(window, T0, 0.5), '2026-12-11T00:00:00.000Z');
    assert.ok(Date.parse(chooseRenewalTime(window, T0, 0.999999)) < Date.parse(window.end));
  });

  test('a window that has begun draws from what is left of it; one already past (a mass revocation) means now', () => {
    const inside = new Date('2026-12-11T00:00:00.000Z');
    assert.equal(chooseRenewalTime(window, inside, 0), inside.toISOString());
    const after = new Date('2026-12-20T00:00:00.000Z');
    assert.equal(chooseRenewalTime(window, after, 0.7), after.toISOString());
  });

  test("the next look honours the CA's Retry-After, but comes at least twice a day", () => {
    assert.equal(
      nextRenewalCheck(T0, new Date(T0.getTime() + 6 * 60 * 60_000).toISOString()),
      new Date(T0.getTime() + 6 * 60 * 60_000).toISOString(),
    );
    assert.equal(nextRenewalCheck(T0, new Date(T0.getTime() + 3 * DAY).toISOString()), new Date(T0.getTime() + DAY / 2).toISOString());
    assert.equal(nextRenewalCheck(T0, undefined), new Date(T0.getTime() + DAY / 2).toISOString());
  });

  test("the certificate identifier: the issuer key's id and the DER serial, base64url (RFC 9773 §4.1 example)", () => {
    // The RFC's example: keyIdentifier 69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4, serial 00:87:65:43:21.
    assert.equal(ariCertificateId('69885B6B87464041E1B37B847BA0AE2CDE01C8D4', '87654321'), 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
  });
});

describe('the sweep asks the decider', () => {
  const issued = [added, requested(1), ...installed(1)];
  const due = new Date(fallbackRenewsAt(certificate));

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

describe('renewal with ARI, as the decider sees it', () => {
  const withId = [added, requested(1), ...installed(1, 'aki.serial')];
  const window = { start: '2027-01-10T00:00:00.000Z', end: '2027-01-12T00:00:00.000Z' };
  const checked = (renewsAt: string) => ({
    type: 'RenewalInfoChecked' as const,
    data: { ariId: 'aki.serial', window, renewsAt, nextCheckAt: new Date(T0.getTime() + DAY / 2).toISOString() },
  });

  test('a window recorded draws the renewal time; the same window again keeps it', () => {
    given(...withId)
      .when({ type: 'RecordRenewalInfo', ariId: 'aki.serial', window, random: 0.5 })
      .then(checked('2027-01-11T00:00:00.000Z'));
    given(...withId, checked('2027-01-11T00:00:00.000Z'))
      .when({ type: 'RecordRenewalInfo', ariId: 'aki.serial', window, random: 0.1 })
      .then(checked('2027-01-11T00:00:00.000Z'));
  });

  test('information about another certificate than the serving one changes nothing', () => {
    given(...withId)
      .when({ type: 'RecordRenewalInfo', ariId: 'another', window, random: 0.5 })
      .then();
  });

  test('due inside the window: the renewal names the certificate it replaces', () => {
    const at = new Date('2027-01-11T00:00:00.000Z');
    given(...withId, checked(at.toISOString()))
      .when({ type: 'RenewIfDue' }, at)
      .then(
        { type: 'RenewalDue', data: { certificateArn: 'arn:cert/1', notAfter: certificate.notAfter, renewsAt: at.toISOString() } },
        { type: 'IssuanceRequested', data: { attempt: 2, trigger: 'renewal', replaces: 'aki.serial' } },
      );
  });
});
