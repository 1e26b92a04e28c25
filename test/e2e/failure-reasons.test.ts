// Every reason a certificate is not issued, provoked for real on the local stack: the
// DNS zone, the router in front of the app, and the fault proxy in front of Pebble.
// Each test asserts the status, the reason, the message a person reads and the events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { streamIds } from '../../functions/domain/events.ts';
import { LOCAL_DNS_TARGET_SUFFIX, LOCAL_LEGACY_TARGET_SUFFIX } from '../../infra/local/cloud.ts';
import { addDomain, timeline, useLocalCloud, waitForStatus, type TimelineEvent } from '../support/local-cloud.ts';

// Retries far apart, a long window: each test sees the first failure and nothing after it.
const cloud = useLocalCloud({ settings: { retryPolicy: { firstRetryDelayMs: 600_000, failingWindowMs: 3_600_000 } } });
const APP = 'reasons';
const TARGET = `${APP}.${LOCAL_DNS_TARGET_SUFFIX}`;
const RATE_LIMITED = 'urn:ietf:params:acme:error:rateLimited';
const REJECTED = 'urn:ietf:params:acme:error:rejectedIdentifier';

interface Expected {
  status: 'Failing' | 'Failed';
  reason: string;
  message: RegExp;
  /** The event types after DomainAdded and IssuanceRequested, in order. */
  events: string[];
}

async function expectFailure(hostname: string, expected: Expected): Promise<TimelineEvent[]> {
  await addDomain(cloud(), APP, hostname);
  const status = await waitForStatus(cloud(), APP, hostname, ['Failing', 'Failed', 'Cert Issued']);
  assert.equal(status.status, expected.status, JSON.stringify(status));
  assert.equal(status.reason, expected.reason, JSON.stringify(status));
  assert.match(status.message ?? '', expected.message);
  const events = await timeline(cloud(), APP, hostname);
  assert.deepEqual(
    events.map((event) => event.type),
    ['DomainAdded', 'IssuanceRequested', ...expected.events],
  );
  const failed = events.at(-1)!;
  assert.deepEqual(
    [failed.data.reason, failed.data.message, failed.data.final],
    [expected.reason, status.message, expected.status === 'Failed'],
  );
  return events;
}

test('NXDOMAIN: the name does not exist', async () => {
  const events = await expectFailure('www.nowhere.test', {
    status: 'Failing',
    reason: 'NXDOMAIN',
    message: /www\.nowhere\.test does not exist in DNS \(NXDOMAIN\)/,
    events: ['DnsCheckFailed', 'IssuanceFailed'],
  });
  assert.ok(!events[2]!.data.answers.some((answer: { name: string }) => answer.name === 'www.nowhere.test'));
});

test('DNS_UNRESOLVABLE: the name exists but has no CNAME or A record yet', async () => {
  cloud().dns.zone.set('www.empty.test', 'TXT', ['v=spf1 -all']);
  await expectFailure('www.empty.test', {
    status: 'Failing',
    reason: 'DNS_UNRESOLVABLE',
    message: /has no CNAME or A record yet/,
    events: ['DnsCheckFailed', 'IssuanceFailed'],
  });
});

test('DNS_TIMEOUT: the DNS provider answers SERVFAIL, or not at all', async () => {
  cloud().dns.zone.fail('www.servfail.test', 'servfail');
  await expectFailure('www.servfail.test', {
    status: 'Failing',
    reason: 'DNS_TIMEOUT',
    message: /did not answer \(SERVFAIL\)/,
    events: ['DnsCheckFailed', 'IssuanceFailed'],
  });
  cloud().dns.zone.fail('www.silent.test', 'no-answer');
  await expectFailure('www.silent.test', {
    status: 'Failing',
    reason: 'DNS_TIMEOUT',
    message: /did not answer \(TIMEOUT\)/,
    events: ['DnsCheckFailed', 'IssuanceFailed'],
  });
});

test('DNS_INCORRECT: the domain points somewhere else, and the answers are kept', async () => {
  cloud().dns.zone.set('www.elsewhere.test', 'A', ['192.0.2.55']);
  const events = await expectFailure('www.elsewhere.test', {
    status: 'Failing',
    reason: 'DNS_INCORRECT',
    message: new RegExp(`points at 192\\.0\\.2\\.55, not at ${TARGET}`),
    events: ['DnsCheckFailed', 'IssuanceFailed'],
  });
  assert.deepEqual(events[2]!.data.answers[0], { name: 'www.elsewhere.test', type: 'A', data: '192.0.2.55' });
});

test('DNS_INCORRECT: a stray AAAA record, which the CA would try first', async () => {
  cloud().dns.zone.set('aaaa.stray.test', 'A', ['127.0.0.1']);
  cloud().dns.zone.set('aaaa.stray.test', 'AAAA', ['2001:db8::1']);
  await expectFailure('aaaa.stray.test', {
    status: 'Failing',
    reason: 'DNS_INCORRECT',
    message: /has AAAA records \(2001:db8::1\) that do not belong to the app/,
    events: ['DnsCheckFailed', 'IssuanceFailed'],
  });
});

test('DNS_INCORRECT: an ALIAS provider publishes AAAA next to the A records on the name itself; said in plain words', async () => {
  // A flattening provider: the name itself answers the target's A record and an AAAA of its own, no CNAME visible.
  cloud().dns.zone.set('alias.v6.test', 'A', ['127.0.0.1']);
  cloud().dns.zone.set('alias.v6.test', 'AAAA', ['2001:db8::64']);
  const events = await expectFailure('alias.v6.test', {
    status: 'Failing',
    reason: 'DNS_INCORRECT',
    message: /alias\.v6\.test has AAAA records \(2001:db8::64\).*IPv6 \(AAAA\) records are not supported and must be removed/,
    events: ['DnsCheckFailed', 'IssuanceFailed'],
  });
  assert.deepEqual(
    events[2]!.data.answers.filter((answer: { type: string }) => answer.type === 'AAAA'),
    [{ name: 'alias.v6.test', type: 'AAAA', data: '2001:db8::64' }],
  );
  assert.equal(cloud().acmeFaults.log.filter((entry) => entry.hostname === 'alias.v6.test').length, 0, 'the CA was never asked');
});

test('DNS_INCORRECT: the CA could not connect over IPv6; its raw dial error becomes the same plain words', async () => {
  cloud().dns.zone.set('www.v6-at-ca.test', 'CNAME', [TARGET]);
  // Let's Encrypt words it `<address>: Fetching <url>: <what failed>`.
  const detail = '2001:db8::99: Fetching http://www.v6-at-ca.test/.well-known/acme-challenge/x: Connection refused';
  cloud().acmeFaults.inject({
    operation: 'challenge',
    hostname: 'www.v6-at-ca.test',
    response: { status: 400, problem: { type: 'urn:ietf:params:acme:error:connection', detail } },
  });
  const events = await expectFailure('www.v6-at-ca.test', {
    status: 'Failing',
    reason: 'DNS_INCORRECT',
    message: /www\.v6-at-ca\.test has AAAA records \(2001:db8::99\).*IPv6 \(AAAA\) records are not supported and must be removed/,
    events: ['DnsVerified', 'OrderBudgetTaken', 'OrderCreated', 'ChallengePublished', 'IssuanceFailed'],
  });
  assert.equal(events.at(-1)!.data.problem.detail, detail, 'the raw problem is kept in the event, not shown as the message');
});

test('CNAME_TARGET_INCORRECT: the CNAME points at a legacy target', async () => {
  cloud().dns.zone.set(`old.${LOCAL_LEGACY_TARGET_SUFFIX}`, 'A', ['127.0.0.1']);
  cloud().dns.zone.set('www.legacy.test', 'CNAME', [`old.${LOCAL_LEGACY_TARGET_SUFFIX}`]);
  await expectFailure('www.legacy.test', {
    status: 'Failing',
    reason: 'CNAME_TARGET_INCORRECT',
    message: new RegExp(`a legacy target\\. Change its CNAME record to ${TARGET}`),
    events: ['DnsCheckFailed', 'IssuanceFailed'],
  });
});

test('CAA_FORBIDS: a CAA set at the parent lets only another CA issue; no retry', async () => {
  cloud().dns.zone.set('www.caa-other.test', 'CNAME', [TARGET]);
  cloud().dns.zone.setCaa('caa-other.test', [{ flags: 0, tag: 'issue', value: 'sectigo.com' }]);
  const events = await expectFailure('www.caa-other.test', {
    status: 'Failed',
    reason: 'CAA_FORBIDS',
    message: /lets only sectigo\.com issue\. Add a CAA record: caa-other\.test\. CAA 0 issue "letsencrypt\.org"/,
    events: ['DnsCheckFailed', 'IssuanceFailed'],
  });
  assert.ok(
    events[2]!.data.answers.some((answer: { type: string; data: string }) => answer.type === 'CAA' && answer.data.includes('sectigo.com')),
  );
});

test('CAA_FORBIDS before ordering: accounturi binding another ACME account, or validationmethods without http-01', async () => {
  // The first order records the account we order with; the pre-flight holds CAA against it from then on.
  cloud().dns.zone.set('www.account-first.test', 'CNAME', [TARGET]);
  await addDomain(cloud(), APP, 'www.account-first.test');
  await waitForStatus(cloud(), APP, 'www.account-first.test', ['Cert Issued']);
  const [recorded] = await cloud().ports.events.read(streamIds.caAccount());
  const ours = (recorded?.data as { accountUrl: string }).accountUrl;
  assert.match(ours, /^https:\/\/127\.0\.0\.1:\d+\//);
  const other = `${new URL(ours).origin}/my-account/somebody-else`;
  const ordered = (hostname: string) =>
    cloud().acmeFaults.log.some((entry) => entry.operation === 'newOrder' && entry.hostname === hostname);

  cloud().dns.zone.set('www.caa-account.test', 'CNAME', [TARGET]);
  cloud().dns.zone.setCaa('caa-account.test', [{ flags: 0, tag: 'issue', value: `letsencrypt.org; accounturi=${other}` }]);
  await expectFailure('www.caa-account.test', {
    status: 'Failed',
    reason: 'CAA_FORBIDS',
    message: new RegExp(
      `is for another ACME account \\(${other}; ours is ${ours}\\)\\. Add a CAA record: caa-account\\.test\\. CAA 0 issue "letsencrypt\\.org; accounturi=${ours}"`,
    ),
    events: ['DnsCheckFailed', 'IssuanceFailed'],
  });
  assert.equal(ordered('www.caa-account.test'), false, 'no order was sent to the CA');

  cloud().dns.zone.set('www.caa-methods.test', 'CNAME', [TARGET]);
  cloud().dns.zone.setCaa('caa-methods.test', [{ flags: 0, tag: 'issue', value: 'letsencrypt.org; validationmethods=dns-01' }]);
  await expectFailure('www.caa-methods.test', {
    status: 'Failed',
    reason: 'CAA_FORBIDS',
    message: /allows only dns-01 validation, and we validate with http-01/,
    events: ['DnsCheckFailed', 'IssuanceFailed'],
  });
  assert.equal(ordered('www.caa-methods.test'), false, 'no order was sent to the CA');

  // Bound to our own account, and allowing http-01: issued.
  cloud().dns.zone.set('www.caa-ours.test', 'CNAME', [TARGET]);
  cloud().dns.zone.setCaa('caa-ours.test', [
    { flags: 0, tag: 'issue', value: `letsencrypt.org; accounturi=${ours}; validationmethods=http-01` },
  ]);
  await addDomain(cloud(), APP, 'www.caa-ours.test');
  assert.equal((await waitForStatus(cloud(), APP, 'www.caa-ours.test', ['Cert Issued', 'Failed', 'Failing'])).status, 'Cert Issued');
});

test('CAA_UNSUPPORTED: the DNS provider fails CAA queries', async () => {
  cloud().dns.zone.set('www.caa-broken.test', 'CNAME', [TARGET]);
  cloud().dns.zone.fail('www.caa-broken.test', 'servfail', 'CAA');
  await expectFailure('www.caa-broken.test', {
    status: 'Failing',
    reason: 'CAA_UNSUPPORTED',
    message: /could not answer a CAA query \(SERVFAIL\)/,
    events: ['DnsCheckFailed', 'IssuanceFailed'],
  });
});

test('CN_TOO_LONG: a name over 64 characters is accepted, and fails before any lookup', async () => {
  const hostname = `${'a'.repeat(50)}.long-names.test`;
  cloud().dns.zone.set(hostname, 'CNAME', [TARGET]);
  await expectFailure(hostname, {
    status: 'Failed',
    reason: 'CN_TOO_LONG',
    message: /is 66 characters long; a certificate's name can have at most 64/,
    events: ['IssuanceFailed'],
  });
});

test('CDN_NO_CHALLENGE: the challenge URL answers 404 before the CA is asked', async () => {
  cloud().dns.zone.set('www.cdn404.test', 'CNAME', [TARGET]);
  cloud().router.challengeFaults.set('www.cdn404.test', { status: 404 });
  await expectFailure('www.cdn404.test', {
    status: 'Failing',
    reason: 'CDN_NO_CHALLENGE',
    message: /answers 404\. If a CDN or proxy is in front of the app/,
    events: ['DnsVerified', 'OrderBudgetTaken', 'OrderCreated', 'ChallengePublished', 'IssuanceFailed'],
  });
  // The self-check caught it: the CA was never asked to validate.
  assert.ok(!cloud().acmeFaults.log.some((entry) => entry.operation === 'challenge' && entry.hostname === 'www.cdn404.test'));
});

test('REDIRECT_DROPS_PATH: a redirect that loses the challenge path', async () => {
  cloud().dns.zone.set('www.redirect.test', 'CNAME', [TARGET]);
  cloud().router.challengeFaults.set('www.redirect.test', { redirectTo: 'https://www.redirect.test/' });
  await expectFailure('www.redirect.test', {
    status: 'Failing',
    reason: 'REDIRECT_DROPS_PATH',
    message: /redirects to https:\/\/www\.redirect\.test\/, which drops the path/,
    events: ['DnsVerified', 'OrderBudgetTaken', 'OrderCreated', 'ChallengePublished', 'IssuanceFailed'],
  });
});

test('RATE_LIMITED: the CA says rateLimited with Retry-After; the status says until when', async () => {
  cloud().dns.zone.set('www.ratelimited.test', 'CNAME', [TARGET]);
  const problem = { type: RATE_LIMITED, detail: 'too many certificates already issued for "ratelimited.test"' };
  cloud().acmeFaults.inject({
    operation: 'newOrder',
    hostname: 'www.ratelimited.test',
    response: { status: 429, problem, retryAfterSeconds: 7200 },
  });
  const asked = Date.now();
  const events = await expectFailure('www.ratelimited.test', {
    status: 'Failing',
    reason: 'RATE_LIMITED',
    message: /rate limiting issuance for www\.ratelimited\.test until .*too many certificates/,
    events: ['DnsVerified', 'OrderBudgetTaken', 'RateLimited', 'IssuanceFailed'],
  });
  const rateLimited = events.find((event) => event.type === 'RateLimited')!;
  const until = Date.parse(rateLimited.data.until);
  assert.ok(Math.abs(until - (asked + 7200_000)) < 10_000, `rate limited until ${rateLimited.data.until}`);
  assert.equal(rateLimited.data.problem.type, RATE_LIMITED, 'the raw problem document is kept');
  const status = await waitForStatus(cloud(), APP, 'www.ratelimited.test', ['Failing']);
  assert.equal(status.rateLimitedUntil, rateLimited.data.until);
});

test('DOMAIN_BLOCKLISTED and DOMAIN_UNSAFE: the CA rejects the identifier; no retry', async () => {
  for (const [hostname, detail, reason] of [
    [
      'www.blocked.test',
      'Error creating new order :: Cannot issue for "www.blocked.test": The ACME server refuses to issue a certificate for this domain name, because it is forbidden by policy',
      'DOMAIN_BLOCKLISTED',
    ],
    ['www.unsafe.test', 'Cannot issue for "www.unsafe.test": the domain is flagged as unsafe by Google Safe Browsing', 'DOMAIN_UNSAFE'],
  ] as const) {
    cloud().dns.zone.set(hostname, 'CNAME', [TARGET]);
    cloud().acmeFaults.inject({ operation: 'newOrder', hostname, response: { status: 400, problem: { type: REJECTED, detail } } });
    await expectFailure(hostname, {
      status: 'Failed',
      reason,
      message: reason === 'DOMAIN_UNSAFE' ? /considers www\.unsafe\.test unsafe/ : /refuses to issue for www\.blocked\.test by policy/,
      events: ['DnsVerified', 'OrderBudgetTaken', 'IssuanceFailed'],
    });
  }
});

test('the CA failing (a 5xx page, not ACME) is Failing with no reason to act on, and retried', async () => {
  cloud().dns.zone.set('www.ca-down.test', 'CNAME', [TARGET]);
  cloud().acmeFaults.inject({
    operation: 'newOrder',
    hostname: 'www.ca-down.test',
    response: { status: 503, body: '<html>Service Unavailable</html>' },
  });
  await addDomain(cloud(), APP, 'www.ca-down.test');
  const status = await waitForStatus(cloud(), APP, 'www.ca-down.test', ['Failing', 'Failed', 'Cert Issued']);
  assert.equal(status.status, 'Failing');
  assert.equal(status.reason, undefined);
  assert.match(status.message ?? '', /certificate authority could not be reached or failed .*Service Unavailable/);
  const events = await timeline(cloud(), APP, 'www.ca-down.test');
  assert.deepEqual(events.at(-1)!.data.retryable, true);
});
