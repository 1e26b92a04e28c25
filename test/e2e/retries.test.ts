// Retrying the right way, with the windows shortened: Failing turns Failed when the
// failing window ends, a rate limit is waited out exactly, a failing domain recovers
// after its DNS is fixed and it is refreshed, and owners are told once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LOCAL_DNS_TARGET_SUFFIX } from '../../infra/local/cloud.ts';
import { addDomain, api, timeline, useLocalCloud, waitForDomain, waitForStatus } from '../support/local-cloud.ts';

const WINDOW_SECONDS = 4;
const cloud = useLocalCloud({
  settings: {
    retryPolicy: { failingWindowMs: WINDOW_SECONDS * 1000, firstRetryDelayMs: 1000, maxRetryDelayMs: 1000, notifyAfterMs: 2000 },
    // The CA's "too many new orders" below empties the account's bucket in the ledger: here it refills in a minute.
    rateLimits: { newOrdersPerAccount: { capacity: 300, periodMs: 60_000 } },
  },
  sweepIntervalMs: 60 * 60_000,
});
const APP = 'retries';
const TARGET = `${APP}.${LOCAL_DNS_TARGET_SUFFIX}`;

test('Failing retries with backoff, then turns Failed when the window ends, and the execution stops', async () => {
  await addDomain(cloud(), APP, 'www.never.test');
  assert.equal((await waitForStatus(cloud(), APP, 'www.never.test', ['Failing'])).reason, 'NXDOMAIN');
  const failed = await waitForStatus(cloud(), APP, 'www.never.test', ['Failed'], 15_000);
  assert.equal(failed.reason, 'NXDOMAIN');
  const failures = (await timeline(cloud(), APP, 'www.never.test')).filter((event) => event.type === 'IssuanceFailed');
  assert.ok(failures.length >= 3, `${failures.length} tries`);
  assert.deepEqual(
    failures.map((event) => event.data.final),
    [...failures.slice(1).map(() => false), true],
  );
  const failingFor = Date.parse(failures.at(-1)!.at) - Date.parse(failures[0]!.at);
  assert.ok(failingFor >= WINDOW_SECONDS * 1000, `gave up after ${failingFor} ms, before the window ended`);
  // One backoff (1 s) plus a try after the window ends, with room for a busy machine.
  assert.ok(failingFor < (WINDOW_SECONDS + 4) * 1000, `gave up after ${failingFor} ms, well after the window ended`);
  await cloud().workflows.executions.get('retries_www.never.test_1')!.done;
  assert.equal(cloud().workflows.executions.get('retries_www.never.test_1')!.status, 'FAILED');
});

test('a domain that failed recovers: the DNS is fixed, then refresh, then "Cert Issued"', async () => {
  await addDomain(cloud(), APP, 'www.fixed-later.test');
  await waitForStatus(cloud(), APP, 'www.fixed-later.test', ['Failed'], 15_000);
  cloud().dns.zone.set('www.fixed-later.test', 'CNAME', [TARGET]);
  const refreshed = await api(cloud(), 'POST', `/apps/${APP}/acm/refresh`);
  assert.equal(refreshed.status, 202);
  assert.ok(refreshed.body.refreshed.includes('www.fixed-later.test'));
  // Refreshing again while it runs starts nothing new.
  await api(cloud(), 'POST', `/apps/${APP}/acm/refresh`);
  const issued = await waitForStatus(cloud(), APP, 'www.fixed-later.test', ['Cert Issued'], 15_000);
  assert.equal(issued.reason, undefined);
  const requests = (await timeline(cloud(), APP, 'www.fixed-later.test')).filter((event) => event.type === 'IssuanceRequested');
  assert.deepEqual(
    requests.map((event) => [event.data.attempt, event.data.trigger]),
    [
      [1, 'domain-added'],
      [2, 'refresh'],
    ],
  );
  assert.equal(cloud().workflows.executions.get('retries_www.fixed-later.test_2')?.status, 'SUCCEEDED');
  assert.equal(cloud().workflows.executions.has('retries_www.fixed-later.test_3'), false);
});

test('a rate limit is waited out until exactly the time the CA gave, then issuance goes on', async () => {
  cloud().dns.zone.set('www.wait-for-it.test', 'CNAME', [TARGET]);
  const problem = { type: 'urn:ietf:params:acme:error:rateLimited', detail: 'too many new orders recently' };
  cloud().acmeFaults.inject({
    operation: 'newOrder',
    hostname: 'www.wait-for-it.test',
    times: 1,
    response: { status: 429, problem, retryAfterSeconds: 3 },
  });
  await addDomain(cloud(), APP, 'www.wait-for-it.test');
  const limited = await waitForStatus(cloud(), APP, 'www.wait-for-it.test', ['Failing']);
  assert.equal(limited.reason, 'RATE_LIMITED');
  await waitForStatus(cloud(), APP, 'www.wait-for-it.test', ['Cert Issued'], 15_000);
  const events = await timeline(cloud(), APP, 'www.wait-for-it.test');
  const until = Date.parse(events.find((event) => event.type === 'RateLimited')!.data.until);
  assert.equal(until, Date.parse(limited.rateLimitedUntil!));
  const failedAt = events.findIndex((event) => event.type === 'IssuanceFailed');
  const resumed = events.slice(failedAt).find((event) => event.type === 'DnsVerified')!;
  const waited = Date.parse(resumed.at) - until;
  assert.ok(waited >= 0, `resumed ${-waited} ms before the rate limit ended`);
  assert.ok(waited < 3000, `resumed ${waited} ms after the rate limit ended`);
});

test('a CA error on finalize is retried, and the domain ends issued', async () => {
  cloud().dns.zone.set('www.flaky-ca.test', 'CNAME', [TARGET]);
  const problem = { type: 'urn:ietf:params:acme:error:serverInternal', detail: 'the database is having a moment' };
  cloud().acmeFaults.inject({ operation: 'finalize', hostname: 'www.flaky-ca.test', times: 1, response: { status: 500, problem } });
  await addDomain(cloud(), APP, 'www.flaky-ca.test');
  await waitForStatus(cloud(), APP, 'www.flaky-ca.test', ['Cert Issued'], 15_000);
  const failure = (await timeline(cloud(), APP, 'www.flaky-ca.test')).find((event) => event.type === 'IssuanceFailed')!;
  assert.deepEqual([failure.data.reason, failure.data.retryable, failure.data.final], [undefined, true, false]);
  assert.match(failure.data.message, /serverInternal: the database is having a moment/);
  assert.equal(failure.data.problem.type, problem.type);
});

test('owners are told once when a domain has been failing too long', async () => {
  await addDomain(cloud(), APP, 'www.still-broken.test');
  await waitForStatus(cloud(), APP, 'www.still-broken.test', ['Failing', 'Failed']);
  await new Promise((resolve) => setTimeout(resolve, 2100));
  await cloud().sweep();
  await cloud().sweep();
  const notices = cloud().notifications.sent.filter((notice) => notice.hostname === 'www.still-broken.test');
  assert.equal(notices.length, 1);
  const [notice] = notices;
  assert.equal(notice?.detailType, 'CertificateIssuanceFailing');
  assert.equal(notice.reason, 'NXDOMAIN');
  const notified = (await timeline(cloud(), APP, 'www.still-broken.test')).filter((event) => event.type === 'FailureNotified');
  assert.equal(notified.length, 1);
  assert.equal(notified[0]!.data.failingSince, notice.failingSince);
  // The status shows what owners were told.
  const status = await waitForDomain(cloud(), APP, 'www.still-broken.test', (row) => Boolean(row.notices), 'show its notice');
  assert.deepEqual(
    status.notices?.map(({ type, notificationId }) => ({ type, notificationId })),
    [{ type: 'CertificateIssuanceFailing', notificationId: notice.notificationId }],
  );
});
