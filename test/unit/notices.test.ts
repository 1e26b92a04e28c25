import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appDueAt, foldApp } from '../../functions/domain/app-decider.ts';
import { decide, fold } from '../../functions/domain/certificate-decider.ts';
import type { AppEvent } from '../../functions/domain/events.ts';
import {
  expiryNoticeDue,
  MANAGED_EXPIRY_THRESHOLDS_DAYS,
  nextExpiryNoticeAt,
  UPLOADED_EXPIRY_THRESHOLDS_DAYS,
} from '../../functions/domain/notices.ts';
import { certificateStatus, sweepDueAt } from '../../functions/domain/status.ts';
import { added, certificate, given, givenApp, installed, policy, requested } from './given.ts';

const DAY = 24 * 60 * 60_000;
const EXPIRY = Date.parse(certificate.notAfter);
const daysBefore = (days: number, plusMs = 0) => new Date(EXPIRY - days * DAY + plusMs);
const serving = [added, requested(1), ...installed(1)];
const sent = (threshold: number, daysLeft = threshold) => ({
  type: 'ExpiryNoticeSent' as const,
  data: {
    notificationId: `domain#demo#www.example.com#expiring#arn:cert/1#${threshold}`,
    certificateArn: 'arn:cert/1',
    expiresAt: certificate.notAfter,
    threshold,
    daysLeft,
  },
  at: daysBefore(threshold).toISOString(),
});

describe('expiry thresholds', () => {
  test('the smallest threshold crossed is due, once; one a sweep missed is not sent late', () => {
    const thresholds = MANAGED_EXPIRY_THRESHOLDS_DAYS;
    assert.equal(expiryNoticeDue(certificate.notAfter, [], thresholds, daysBefore(14, -1)), undefined);
    assert.deepEqual(expiryNoticeDue(certificate.notAfter, [], thresholds, daysBefore(14)), { threshold: 14, daysLeft: 14 });
    assert.deepEqual(expiryNoticeDue(certificate.notAfter, [], thresholds, daysBefore(13, -1)), { threshold: 14, daysLeft: 13 });
    assert.equal(expiryNoticeDue(certificate.notAfter, [14], thresholds, daysBefore(10)), undefined);
    // Down from 14 to 5 days: the 7-day notice goes, the 14-day one is not sent after it.
    assert.deepEqual(expiryNoticeDue(certificate.notAfter, [], thresholds, daysBefore(5)), { threshold: 7, daysLeft: 5 });
    assert.equal(expiryNoticeDue(certificate.notAfter, [7], thresholds, daysBefore(3)), undefined);
    // Expired without the last notice: it goes, saying 0 days.
    assert.deepEqual(expiryNoticeDue(certificate.notAfter, [14, 7], thresholds, daysBefore(-2)), { threshold: 1, daysLeft: 0 });
    assert.equal(expiryNoticeDue(certificate.notAfter, [14, 7, 1], thresholds, daysBefore(-2)), undefined);
  });

  test('the next notice falls due at the next threshold below the last sent; none after the last', () => {
    const thresholds = UPLOADED_EXPIRY_THRESHOLDS_DAYS;
    assert.equal(nextExpiryNoticeAt(certificate.notAfter, [], thresholds), daysBefore(30).toISOString());
    assert.equal(nextExpiryNoticeAt(certificate.notAfter, [30], thresholds), daysBefore(7).toISOString());
    assert.equal(nextExpiryNoticeAt(certificate.notAfter, [7], thresholds), daysBefore(1).toISOString());
    assert.equal(nextExpiryNoticeAt(certificate.notAfter, [30, 7, 1], thresholds), undefined);
  });
});

describe('a managed certificate close to expiry, as the decider sees it', () => {
  test('told at 14, 7 and 1 days left, once each', () => {
    given(...serving)
      .when({ type: 'NotifyIfExpiring' }, daysBefore(15))
      .then();
    given(...serving)
      .when({ type: 'NotifyIfExpiring' }, daysBefore(14))
      .then(sent(14));
    given(...serving, sent(14))
      .when({ type: 'NotifyIfExpiring' }, daysBefore(8))
      .then();
    given(...serving, sent(14))
      .when({ type: 'NotifyIfExpiring' }, daysBefore(7))
      .then(sent(7));
    given(...serving, sent(14), sent(7))
      .when({ type: 'NotifyIfExpiring' }, daysBefore(1))
      .then(sent(1));
  });

  test('a short-lived certificate renewing on time is told nothing; once its renewal is late, it is', () => {
    // Six days: renews with three left, late a tenth of that after.
    const notBefore = Date.parse(certificate.notBefore);
    const sixDays = new Date(notBefore + 6 * DAY).toISOString();
    const shortLived = [added, requested(1), ...installed(1)].map((event) =>
      event.type === 'CertificateInstalled' ? { ...event, data: { ...event.data, notAfter: sixDays } } : event,
    );
    given(...shortLived)
      .when({ type: 'NotifyIfExpiring' }, new Date(notBefore + 3.2 * DAY))
      .then();
    const [notice] = decide({ type: 'NotifyIfExpiring' }, fold(shortLived), new Date(notBefore + 3.4 * DAY), policy);
    assert.deepEqual(notice?.type === 'ExpiryNoticeSent' && [notice.data.threshold, notice.data.daysLeft], [7, 2]);
    assert.equal(sweepDueAt(fold(shortLived), policy), new Date(notBefore + 3 * DAY).toISOString(), 'the renewal comes first');
  });

  test('a late renewal under way is renewing until it fails or waits for budget', () => {
    const renewing = [...serving, requested(2, 'renewal')];
    given(...renewing)
      .when({ type: 'NotifyIfExpiring' }, daysBefore(14))
      .then();
    given(...renewing, { type: 'IssuanceFailed', data: { attempt: 2, reason: 'NXDOMAIN', message: 'm', retryable: true, final: false } })
      .when({ type: 'NotifyIfExpiring' }, daysBefore(14))
      .then(sent(14));
    const deferral = { attempt: 2, until: certificate.notAfter, limit: 'newOrdersPerAccount', bucket: 'b', message: 'm' } as const;
    given(...renewing, { type: 'OrderDeferred', data: deferral })
      .when({ type: 'NotifyIfExpiring' }, daysBefore(14))
      .then(sent(14));
  });

  test('a renewed certificate starts its own thresholds; a removed domain is told nothing', () => {
    const renewed = [
      ...serving,
      sent(14),
      requested(2, 'renewal'),
      ...installed(2).map((event) =>
        event.type === 'CertificateInstalled' ? { ...event, data: { ...event.data, certificateArn: 'arn:cert/2' } } : event,
      ),
    ];
    assert.deepEqual(given(...renewed).state.certificate?.expiryNotices, []);
    given(...serving)
      .when({ type: 'NotifyIfExpiring' }, daysBefore(14))
      .then(sent(14));
    given(...serving, { type: 'DomainRemoved', data: { reason: 'removed' } })
      .when({ type: 'NotifyIfExpiring' }, daysBefore(1))
      .then();
  });

  test("the sweep's index holds the next threshold, and the status lists what was sent", () => {
    const { state } = given(...serving, sent(14));
    // A renewal already failed for good: only the notice keeps the domain in the index.
    const stopped = given(...serving, sent(14), requested(2, 'renewal'), {
      type: 'IssuanceFailed',
      data: { attempt: 2, reason: 'CAA_FORBIDS', message: 'm', retryable: false, final: true },
    }).state;
    assert.equal(sweepDueAt(stopped, policy), daysBefore(7).toISOString());
    assert.deepEqual(
      certificateStatus(state)?.notices?.map(({ type, threshold, daysLeft, expiresAt }) => ({ type, threshold, daysLeft, expiresAt })),
      [{ type: 'CertificateExpiring', threshold: 14, daysLeft: 14, expiresAt: certificate.notAfter }],
    );
  });
});

describe('an uploaded certificate close to expiry, as the app decider sees it', () => {
  const info = {
    name: 'shop',
    managed: false,
    commonNames: ['shop.example.com'],
    issuer: 'CN=Some CA',
    subject: 'CN=shop.example.com',
    startsAt: certificate.notBefore,
    expiresAt: certificate.notAfter,
    trusted: true,
  };
  const uploaded: AppEvent = { type: 'CertificateUploaded', data: { certificateArn: 'arn:upload/1', info } };
  const told = (threshold: number, daysLeft = threshold): AppEvent => ({
    type: 'UploadExpiryNoticeSent',
    data: {
      notificationId: `app#demo#expiring#arn:upload/1#${threshold}`,
      name: 'shop',
      certificateArn: 'arn:upload/1',
      expiresAt: certificate.notAfter,
      threshold,
      daysLeft,
    },
  });

  test('told at 30, 7 and 1 days left, once each; a replacement starts afresh', () => {
    givenApp(uploaded)
      .when({ type: 'NotifyIfUploadsExpiring', app: 'demo', now: daysBefore(31) })
      .then();
    givenApp(uploaded)
      .when({ type: 'NotifyIfUploadsExpiring', app: 'demo', now: daysBefore(30) })
      .then(told(30));
    givenApp(uploaded, told(30))
      .when({ type: 'NotifyIfUploadsExpiring', app: 'demo', now: daysBefore(20) })
      .then();
    givenApp(uploaded, told(30))
      .when({ type: 'NotifyIfUploadsExpiring', app: 'demo', now: daysBefore(6, -1) })
      .then(told(7, 6));
    const replaced: AppEvent = { type: 'CertificateReplaced', data: { certificateArn: 'arn:upload/1', info } };
    givenApp(uploaded, told(30), replaced)
      .when({ type: 'NotifyIfUploadsExpiring', app: 'demo', now: daysBefore(30) })
      .then(told(30));
  });

  test("the app is due at its uploads' next threshold, and not at all without uploads", () => {
    assert.equal(appDueAt(foldApp([uploaded])), daysBefore(30).toISOString());
    assert.equal(appDueAt(foldApp([uploaded, told(30)])), daysBefore(7).toISOString());
    assert.equal(
      appDueAt(foldApp([uploaded, { type: 'UploadedCertificateRemoved', data: { name: 'shop', certificateArn: 'arn:upload/1' } }])),
      undefined,
    );
  });
});
