// New domains waiting for budget are served fairly across apps: one app's burst waits on
// its own buckets (its registered domain's, its share of the account's) while another
// app's domain on another registered domain goes out at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DomainStatus } from '../../functions/domain/status.ts';
import { LOCAL_DNS_TARGET_SUFFIX } from '../../infra/local/cloud.ts';
import { addDomain, api, useLocalCloud, waitForStatus } from '../support/local-cloud.ts';

const DAY = 24 * 60 * 60_000;
const cloud = useLocalCloud({
  settings: {
    rateLimits: {
      newOrdersPerAccount: { capacity: 6, periodMs: DAY },
      newOrdersPerApp: { capacity: 3, periodMs: DAY },
      certificatesPerRegisteredDomain: { capacity: 2, periodMs: 7 * DAY },
    },
  },
});

async function settled(app: string, count: number): Promise<DomainStatus[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { body } = await api(cloud(), 'GET', `/apps/${app}/acm`);
    const domains = body.domains as DomainStatus[];
    if (domains.length === count && domains.every((domain) => domain.status === 'Cert Issued' || domain.rateLimitPredicted)) return domains;
    if (Date.now() > deadline) throw new Error(`${app} did not settle: ${JSON.stringify(domains.map((domain) => domain.status))}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const issuedOf = (domains: DomainStatus[]) => domains.filter((domain) => domain.status === 'Cert Issued').map((domain) => domain.hostname);

test("one app's burst waits on its own buckets; another app's domain is issued at once", async () => {
  const burst = [
    ...Array.from({ length: 6 }, (_, index) => `s${index}.big.test`),
    ...Array.from({ length: 4 }, (_, index) => `www.other${index}.test`),
  ];
  for (const hostname of burst) cloud().dns.zone.set(hostname, 'CNAME', [`burst.${LOCAL_DNS_TARGET_SUFFIX}`]);
  cloud().dns.zone.set('www.small.test', 'CNAME', [`small.${LOCAL_DNS_TARGET_SUFFIX}`]);

  for (const hostname of burst) await addDomain(cloud(), 'burst', hostname);
  const bursting = await settled('burst', burst.length);
  // Its share of the account is 3 orders a day: the rest wait, each on the bucket that holds it.
  assert.equal(issuedOf(bursting).length, 3, JSON.stringify(bursting.map((domain) => [domain.hostname, domain.status])));
  assert.ok(issuedOf(bursting).filter((hostname) => hostname.endsWith('.big.test')).length <= 2, 'at most 2 a week for big.test');
  const waiting = bursting.filter((domain) => domain.rateLimitPredicted);
  assert.ok(
    waiting.every((domain) => domain.reason === 'RATE_LIMITED' && domain.rateLimitedUntil),
    JSON.stringify(waiting[0]),
  );
  assert.ok(
    waiting.some((domain) => /new orders per app/.test(domain.message ?? '')),
    'the app waits on its share, not on the whole account',
  );

  // Half the account's orders are still there for everyone else.
  await addDomain(cloud(), 'small', 'www.small.test');
  assert.equal((await waitForStatus(cloud(), 'small', 'www.small.test', ['Cert Issued', 'Waiting'])).status, 'Cert Issued');
  assert.deepEqual(
    cloud().acmeFaults.log.filter((entry) => entry.status === 429),
    [],
    'the CA never had to refuse',
  );
});
