// The rate-limit ledger on the real local stack. The CA in front of Pebble enforces
// Let's Encrypt's buckets; the ledger keeps every order inside them, so the CA never
// has to say rateLimited: a domain that would go over waits, with the exact refill time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { streamIds, type BucketEvent, type RecordedEvent } from '../../functions/domain/events.ts';
import { bucketId, emissionIntervalMs, exactSetKey, LETS_ENCRYPT_LIMITS, type Bucket } from '../../functions/domain/rate-limits.ts';
import type { DomainStatus } from '../../functions/domain/status.ts';
import { run } from '../../cli/commands.ts';
import { LOCAL_DNS_TARGET_SUFFIX } from '../../infra/local/cloud.ts';
import { addDomain, api, eventually, timeline, useLocalCloud, waitForStatus } from '../support/local-cloud.ts';

const DAY = 24 * 60 * 60_000;
// Eight new orders a day for the account: the six toggles spend five, the racers fight for the last three.
const ACCOUNT_LIMIT = { capacity: 8, periodMs: DAY };
const cloud = useLocalCloud({ settings: { rateLimits: { newOrdersPerAccount: ACCOUNT_LIMIT } } });

/** Rate-limit answers the CA gave: the ledger's whole point is that there are none. */
const caRateLimits = () => cloud().acmeFaults.log.filter((entry) => entry.status === 429);

async function lastOf(bucket: Bucket): Promise<RecordedEvent<BucketEvent>> {
  const last = await cloud().ports.events.readLast<BucketEvent>(streamIds.bucket(bucketId(bucket)));
  assert.ok(last, `${bucketId(bucket)} has a state`);
  return last;
}

async function statusOf(app: string, hostname: string): Promise<DomainStatus | undefined> {
  const { body } = await api(cloud(), 'GET', `/apps/${app}/acm`);
  return (body.domains as DomainStatus[]).find((domain) => domain.hostname === hostname);
}

test('turning automation off and on six times orders at most 5 certificates for the name; the rest wait, predicted, with the exact refill time', async () => {
  const app = 'toggler';
  const hostname = 'www.toggler.test';
  cloud().dns.zone.set(hostname, 'CNAME', [`${app}.${LOCAL_DNS_TARGET_SUFFIX}`]);
  await addDomain(cloud(), app, hostname);
  await waitForStatus(cloud(), app, hostname, ['Cert Issued']);
  const issuedCount = async () => (await timeline(cloud(), app, hostname)).filter((event) => event.type === 'CertificateIssued').length;

  let warnings: string[] = [];
  for (let toggle = 1; toggle <= 6; toggle++) {
    const disabled = await api(cloud(), 'DELETE', `/apps/${app}/acm`);
    warnings = disabled.body.warnings;
    await eventually('automation off', async () => ((await statusOf(app, hostname))?.message?.includes('are off') ? true : undefined));
    const before = await issuedCount();
    assert.equal((await api(cloud(), 'POST', `/apps/${app}/acm`)).status, 202);
    await eventually(`toggle ${toggle} settled`, async () => {
      const status = await statusOf(app, hostname);
      if ((await issuedCount()) > before && status?.status === 'Cert Issued') return true;
      return status?.rateLimitPredicted ? true : undefined;
    });
  }

  assert.equal(await issuedCount(), 5, 'five certificates for the exact same name, not seven');
  const status = (await statusOf(app, hostname))!;
  const exactSet = LETS_ENCRYPT_LIMITS.certificatesPerExactSet;
  const last = await lastOf({ limit: 'certificatesPerExactSet', key: exactSetKey([hostname]) });
  const refill = new Date(Date.parse(last.data.tat) + emissionIntervalMs(exactSet) - exactSet.periodMs).toISOString();
  assert.deepEqual(
    [status.status, status.reason, status.rateLimitedUntil, status.rateLimitPredicted],
    ['Waiting', 'RATE_LIMITED', refill, true],
  );
  assert.match(status.message ?? '', /limit of 5 certificates for the exact same names per 7 days \(www\.toggler\.test\)/);
  assert.match(status.message ?? '', /the CA was not asked: the order waits until /);
  const deferred = (await timeline(cloud(), app, hostname)).filter((event) => event.type === 'OrderDeferred');
  assert.ok(deferred.length >= 1 && deferred.every((event) => event.data.until === refill), JSON.stringify(deferred));
  // The last disable said what was left before the sixth try.
  assert.deepEqual(warnings, [
    `Turning automated certificates on again within 7 days orders a new certificate for ${hostname}: 0 of 5 are left this week for its exact names (one more every 33.6 hours).`,
  ]);
  assert.deepEqual(caRateLimits(), [], 'the CA never had to refuse an order');
});

test('operators read the buckets: GET /ca/limits (operator scope) and acm ca:limits', async () => {
  const hostname = 'www.toggler.test';
  const { status, body } = await api(cloud(), 'GET', `/ca/limits?hostname=${hostname.toUpperCase()}`);
  assert.equal(status, 200);
  const bucket = (limit: string) => body.buckets.find((candidate: { limit: string }) => candidate.limit === limit);
  const exactSet = LETS_ENCRYPT_LIMITS.certificatesPerExactSet;
  const last = await lastOf({ limit: 'certificatesPerExactSet', key: exactSetKey([hostname]) });
  const refill = new Date(Date.parse(last.data.tat) + emissionIntervalMs(exactSet) - exactSet.periodMs).toISOString();
  assert.deepEqual(
    [bucket('certificatesPerExactSet').tokensLeft, bucket('certificatesPerExactSet').nextTokenAt, bucket('certificatesPerExactSet').key],
    [0, refill, hostname],
  );
  assert.deepEqual([bucket('newOrdersPerAccount').tokensLeft, bucket('newOrdersPerAccount').capacity], [3, ACCOUNT_LIMIT.capacity]);
  assert.equal(bucket('certificatesPerRegisteredDomain').key, 'toggler.test');
  assert.deepEqual(
    body.limits.find((limit: { name: string }) => limit.name === 'certificatesPerExactSet'),
    { name: 'certificatesPerExactSet', capacity: 5, periodSeconds: 7 * 24 * 3600, refillSeconds: (7 * 24 * 3600) / 5 },
  );

  const owner = await api(cloud(), 'GET', '/ca/limits', undefined, cloud().tokens.forApps('toggler'));
  assert.deepEqual([owner.status, owner.body.error.code], [403, 'FORBIDDEN']);

  let printed = '';
  const io = {
    env: { ACM_API_URL: cloud().apiUrl, ACM_TOKEN: cloud().tokens.operator },
    stdout: { write: (text: string) => (printed += text) },
    stderr: { write: (text: string) => (printed += text) },
  };
  assert.equal(await run(['ca:limits', hostname], io), 0);
  assert.match(printed, new RegExp(`certificatesPerExactSet\\s+${hostname.replace(/\./g, '\\.')}\\s+0/5\\s+${refill}`));
});

test('20 workflows racing for the last 3 tokens of the account make exactly 3 orders; 17 wait for the refill', async () => {
  const app = 'racers';
  const hostnames = Array.from({ length: 20 }, (_, index) => `www.race${index}.test`);
  for (const hostname of hostnames) cloud().dns.zone.set(hostname, 'CNAME', [`${app}.${LOCAL_DNS_TARGET_SUFFIX}`]);
  const left =
    ACCOUNT_LIMIT.capacity - cloud().acmeFaults.log.filter((entry) => entry.operation === 'newOrder' && entry.status === 201).length;
  assert.equal(left, 3, 'the toggles left three orders in the account bucket');

  await Promise.all(hostnames.map((hostname) => addDomain(cloud(), app, hostname)));
  const statuses = await eventually('every racer settled', async () => {
    const { body } = await api(cloud(), 'GET', `/apps/${app}/acm`);
    const domains = body.domains as DomainStatus[];
    const settled = domains.filter((domain) => domain.status === 'Cert Issued' || domain.rateLimitPredicted);
    return settled.length === hostnames.length ? domains : undefined;
  });

  const issued = statuses.filter((domain) => domain.status === 'Cert Issued');
  const waiting = statuses.filter((domain) => domain.rateLimitPredicted);
  assert.deepEqual([issued.length, waiting.length], [3, 17]);
  const ordered = cloud().acmeFaults.log.filter((entry) => entry.operation === 'newOrder' && hostnames.includes(entry.hostname ?? ''));
  assert.equal(ordered.length, 3, 'exactly three orders reached the CA');
  const account = await lastOf({ limit: 'newOrdersPerAccount', key: await lastAccount() });
  const refill = new Date(Date.parse(account.data.tat) + emissionIntervalMs(ACCOUNT_LIMIT) - ACCOUNT_LIMIT.periodMs).toISOString();
  assert.ok(
    waiting.every(
      (domain) =>
        domain.reason === 'RATE_LIMITED' && domain.rateLimitedUntil === refill && /new orders for our account/.test(domain.message ?? ''),
    ),
    JSON.stringify(waiting[0]),
  );
  assert.deepEqual(caRateLimits(), [], 'the CA never had to refuse an order');
});

async function lastAccount(): Promise<string> {
  const last = await cloud().ports.events.readLast(streamIds.caAccount());
  return (last?.data as { accountUrl: string }).accountUrl;
}
