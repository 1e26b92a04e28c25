import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fold } from '../../functions/domain/certificate-decider.ts';
import { checkDatabaseName, connectionUrls } from '../../functions/domain/database.ts';
import type { DomainEvent } from '../../functions/domain/events.ts';
import { judgeDnsChallenge } from '../../functions/domain/self-check.ts';
import { certificateStatus, type DatabaseCertificateRow } from '../../functions/domain/status.ts';
import { certificate, given, T0 } from './given.ts';

const hostname = 'main.demo.db.example.net';
const databaseAdded: DomainEvent = { type: 'DatabaseAdded', data: { app: 'demo', database: 'main', hostname, port: 5432 } };
const enabled: DomainEvent = { type: 'IssuanceRequested', data: { attempt: 1, trigger: 'enhanced-certificates-enabled' } };
const installed: DomainEvent[] = [
  { type: 'CertificateIssued', data: { attempt: 1, ...certificate } },
  {
    type: 'CertificateInstalled',
    data: {
      attempt: 1,
      certificateArn: 'arn:secret/main',
      notBefore: certificate.notBefore,
      notAfter: certificate.notAfter,
      servedRoot: 'Root A',
      availableRoots: ['Root A', 'Root B'],
    },
  },
];
const rowAfter = (...events: DomainEvent[]) =>
  certificateStatus(fold(events.map((event) => ({ ...event, at: T0.toISOString() })))) as DatabaseCertificateRow;

test('a database starts Disabled; enabling opens an attempt; an issued certificate names the root it serves', () => {
  assert.deepEqual([rowAfter(databaseAdded).status, rowAfter(databaseAdded).enabled], ['Disabled', false]);
  given(databaseAdded).when({ type: 'RequestIssuance', trigger: 'enhanced-certificates-enabled' }).then(enabled);
  assert.equal(rowAfter(databaseAdded, enabled).status, 'In Progress');
  const issued = rowAfter(databaseAdded, enabled, ...installed);
  assert.deepEqual(
    [issued.status, issued.servedRoot, issued.availableRoots, issued.database, issued.port],
    ['Cert Issued', 'Root A', ['Root A', 'Root B'], 'main', 5432],
  );
  // Enabling what is on and served changes nothing; after a renewal failed for good, it tries again.
  given(databaseAdded, enabled, ...installed)
    .when({ type: 'RequestIssuance', trigger: 'enhanced-certificates-enabled' })
    .then();
  const renewalFailed: DomainEvent[] = [
    { type: 'IssuanceRequested', data: { attempt: 2, trigger: 'renewal' } },
    { type: 'IssuanceFailed', data: { attempt: 2, reason: 'CAA_FORBIDS', message: 'CAA', retryable: false, final: true } },
  ];
  given(databaseAdded, enabled, ...installed, ...renewalFailed)
    .when({ type: 'RequestIssuance', trigger: 'enhanced-certificates-enabled' })
    .then({ type: 'IssuanceRequested', data: { attempt: 3, trigger: 'enhanced-certificates-enabled' } });
});

test('disabling removes the certificate and cancels a running attempt, for the database reason', () => {
  given(databaseAdded, enabled, ...installed)
    .when({ type: 'TurnAutomationOff' })
    .then({ type: 'CertificateRemoved', data: { certificateArn: 'arn:secret/main', reason: 'enhanced-certificates-disabled' } });
  given(databaseAdded, enabled)
    .when({ type: 'TurnAutomationOff' })
    .then({ type: 'IssuanceCancelled', data: { attempt: 1, reason: 'enhanced-certificates-disabled' } });
  const off = rowAfter(databaseAdded, enabled, ...installed, {
    type: 'CertificateRemoved',
    data: { certificateArn: 'arn:secret/main', reason: 'enhanced-certificates-disabled' },
  });
  assert.deepEqual([off.status, off.enabled, off.servedRoot], ['Disabled', false, undefined]);
});

test('a rotation serves another offered root; one not offered is refused, naming the field and the roots', () => {
  given(databaseAdded, enabled, ...installed)
    .when({ type: 'ServeRoot', root: 'Root B' })
    .then({ type: 'ServedRootChanged', data: { certificateArn: 'arn:secret/main', root: 'Root B' } });
  given(databaseAdded, enabled, ...installed)
    .when({ type: 'ServeRoot', root: 'Root A' })
    .then();
  assert.throws(
    () =>
      given(databaseAdded, enabled, ...installed)
        .when({ type: 'ServeRoot', root: 'Root C' })
        .then(),
    /root: must be one of the roots offered for this certificate: Root A, Root B/,
  );
  given(databaseAdded).when({ type: 'ServeRoot', root: 'Root A' }).thenThrows('InvalidInputError');
  const rotated = rowAfter(databaseAdded, enabled, ...installed, {
    type: 'ServedRootChanged',
    data: { certificateArn: 'arn:secret/main', root: 'Root B' },
  });
  assert.equal(rotated.servedRoot, 'Root B');
});

test('a database removal is recorded as one, even when it arrives before the add', () => {
  given(databaseAdded)
    .when({ type: 'RemoveDomain', reason: 'removed' })
    .then({ type: 'DatabaseRemoved', data: { reason: 'removed' } });
  given()
    .when({ type: 'RemoveDomain', reason: 'removed', database: true, platformEventTime: T0.toISOString() })
    .then({ type: 'DatabaseRemoved', data: { reason: 'removed', platformEventTime: T0.toISOString() } });
  assert.equal(rowAfter(databaseAdded, { type: 'DatabaseRemoved', data: { reason: 'removed' } }), undefined);
});

test('the DNS-01 self-check passes only on the published value, and says what it saw', () => {
  const record = `_acme-challenge.${hostname}`;
  assert.deepEqual(judgeDnsChallenge(record, 'abc', { values: ['old', 'abc'] }), { passed: true });
  const missing = judgeDnsChallenge(record, 'abc', { values: [] });
  assert.deepEqual([missing.passed, 'reason' in missing && missing.reason], [false, 'DNS_CHALLENGE_NOT_VISIBLE']);
  assert.match(
    (missing as { message: string }).message,
    /not visible at _acme-challenge\.main\.demo\.db\.example\.net: it has no TXT record/,
  );
  const other = judgeDnsChallenge(record, 'abc', { values: ['xyz'] });
  assert.match((other as { message: string }).message, /it holds "xyz" instead/);
  const timeout = judgeDnsChallenge(record, 'abc', { failure: 'TIMEOUT' });
  assert.equal('reason' in timeout && timeout.reason, 'DNS_TIMEOUT');
});

test('database names are DNS labels; the connection URL checks the name, the previous one stays as it was', () => {
  assert.deepEqual(checkDatabaseName('main-db'), { valid: true });
  for (const bad of ['', 'Main', '-db', 'db-', 'a.b', 'x'.repeat(64)]) assert.equal(checkDatabaseName(bad).valid, false, bad);
  const urls = connectionUrls({ hostname, database: 'main', port: 5432 }, '/etc/ssl/certs/ca-certificates.crt');
  assert.equal(
    urls.connectionUrl,
    `postgresql://${hostname}:5432/main?sslmode=verify-full&sslrootcert=%2Fetc%2Fssl%2Fcerts%2Fca-certificates.crt`,
  );
  assert.equal(urls.previousConnectionUrl, `postgresql://${hostname}:5432/main?sslmode=require`);
});
