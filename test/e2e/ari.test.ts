// Renewal by ACME Renewal Information (RFC 9773) on the real local stack: the CA in
// front of Pebble offers renewalInfo as Let's Encrypt does, with a hook to move one
// certificate's window (a mass revocation). Sweeps run by hand here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { streamIds } from '../../functions/domain/events.ts';
import { bucketId, exactSetKey } from '../../functions/domain/rate-limits.ts';
import type { DomainStatus } from '../../functions/domain/status.ts';
import { LOCAL_DNS_TARGET_SUFFIX } from '../../infra/local/cloud.ts';
import { addDomain, api, timeline, useLocalCloud, waitForStatus } from '../support/local-cloud.ts';

const cloud = useLocalCloud({ sweepIntervalMs: 60 * 60_000 });
const APP = 'ari';
const HOUR = 60 * 60_000;

async function issued(hostname: string): Promise<{ status: DomainStatus; ariId: string }> {
  cloud().dns.zone.set(hostname, 'CNAME', [`${APP}.${LOCAL_DNS_TARGET_SUFFIX}`]);
  await addDomain(cloud(), APP, hostname);
  const status = await waitForStatus(cloud(), APP, hostname, ['Cert Issued']);
  const ariId = (await timeline(cloud(), APP, hostname)).find((event) => event.type === 'CertificateIssued')?.data.ariId;
  assert.match(ariId ?? '', /^[\w-]+\.[\w-]+$/, 'the certificate has an ARI identifier');
  return { status, ariId };
}

/** Watches the status until `done`, collecting every status word seen on the way. */
async function statusesUntil(hostname: string, done: (status: DomainStatus) => Promise<boolean> | boolean, timeoutMs = 20_000) {
  const seen = new Set<string>();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { body } = await api(cloud(), 'GET', `/apps/${APP}/acm`);
    const status = (body.domains as DomainStatus[]).find((domain) => domain.hostname === hostname)!;
    seen.add(status.status);
    if (await done(status)) return { status, seen };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${hostname}: not reached in ${timeoutMs} ms (seen ${[...seen].join(', ')})`);
}

/** Sweeps, then sweeps again once the renewal time drawn in the (moved) window has come. */
async function sweepUntilRenewalStarts(hostname: string): Promise<void> {
  await cloud().sweep();
  // The projection shows the window once it has caught up with what the sweep recorded.
  const { status } = await statusesUntil(hostname, (status) => status.renewalWindow !== undefined);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(status.renewsAt!) - Date.now()) + 100));
  await cloud().sweep();
}

/** Until the renewal is installed and shown (two certificates of the same second share their expiry). */
const renewed = (hostname: string) =>
  statusesUntil(hostname, async (status) => {
    const installs = (await timeline(cloud(), APP, hostname)).filter((event) => event.type === 'CertificateInstalled');
    return installs.length >= 2 && status.expiresAt === installs.at(-1)!.data.notAfter;
  });

test("the CA's suggested window is recorded and shown; the renewal time is drawn inside it", async () => {
  const { ariId } = await issued('www.ari-window.test');
  await cloud().sweep();
  const { status } = await statusesUntil('www.ari-window.test', (status) => status.renewalWindow !== undefined);
  const { start, end } = status.renewalWindow!;
  assert.ok(Date.parse(start) < Date.parse(end) && Date.parse(end) < Date.parse(status.expiresAt!), JSON.stringify(status));
  assert.ok(Date.parse(status.renewsAt!) >= Date.parse(start) && Date.parse(status.renewsAt!) < Date.parse(end), 'drawn inside the window');
  const checked = (await timeline(cloud(), APP, 'www.ari-window.test')).find((event) => event.type === 'RenewalInfoChecked')!;
  assert.deepEqual([checked.data.ariId, checked.data.window], [ariId, status.renewalWindow]);
  // The CA asked to come back in six hours; we look again then, and at least twice a day.
  const nextCheck = Date.parse(checked.data.nextCheckAt) - Date.parse(checked.at);
  assert.ok(Math.abs(nextCheck - 6 * HOUR) < 5_000, `next look in ${nextCheck} ms`);
});

test('a window moved to now (a mass revocation) renews at once, with replaces, into the same ARN, exempt from every limit', async () => {
  const hostname = 'www.ari-revoked.test';
  const { ariId } = await issued(hostname);
  const explanationUrl = 'https://letsencrypt.example/2026-12-incident';
  cloud().acmeFaults.setRenewalWindow(
    ariId,
    { start: new Date(Date.now() - 2 * HOUR).toISOString(), end: new Date(Date.now() + 3000).toISOString() },
    explanationUrl,
  );
  const accountBucket = async () => (await cloud().ports.events.read(streamIds.bucket(`newOrdersPerAccount#${await accountUrl()}`))).length;
  const accountSpends = await accountBucket();
  await sweepUntilRenewalStarts(hostname);

  const first = (await timeline(cloud(), APP, hostname)).find((event) => event.type === 'CertificateInstalled')!;
  const { status, seen } = await renewed(hostname);
  assert.deepEqual([...seen], ['Cert Issued'], 'the status never left "Cert Issued" while renewing');
  const events = await timeline(cloud(), APP, hostname);
  const checked = events.find((event) => event.type === 'RenewalInfoChecked')!;
  assert.equal(checked.data.explanationUrl, explanationUrl);
  const renewal = events.filter((event) => event.type === 'IssuanceRequested')[1]!;
  assert.deepEqual([renewal.data.trigger, renewal.data.replaces], ['renewal', ariId]);
  const installs = events.filter((event) => event.type === 'CertificateInstalled');
  assert.equal(installs[1]!.data.certificateArn, installs[0]!.data.certificateArn, 'renewed into the same ARN');
  assert.ok(Date.parse(status.expiresAt!) >= Date.parse(first.data.notAfter));
  // Exempt from every bucket: the account spent nothing for it; its certificate still counts for its exact names.
  assert.equal(await accountBucket(), accountSpends, 'the ARI renewal took no new-order token');
  const exactSet = await cloud().ports.events.read(
    streamIds.bucket(bucketId({ limit: 'certificatesPerExactSet', key: exactSetKey([hostname]) })),
  );
  assert.equal(exactSet.length, 2, 'the first certificate and the ARI renewal both count for the exact set');
  assert.deepEqual(
    cloud().acmeFaults.log.filter((entry) => entry.status === 429),
    [],
  );
});

test('a certificate already replaced: the renewal goes out as a plain renewal, paid from the exact-set budget', async () => {
  const hostname = 'www.ari-replaced.test';
  const { ariId } = await issued(hostname);
  cloud().acmeFaults.setRenewalWindow(ariId, {
    start: new Date(Date.now() - 2 * HOUR).toISOString(),
    end: new Date(Date.now() + 3000).toISOString(),
  });
  const problem = { type: 'urn:ietf:params:acme:error:alreadyReplaced', detail: `certificate ${ariId} has already been replaced` };
  cloud().acmeFaults.inject({ operation: 'newOrder', hostname, times: 1, response: { status: 409, problem } });
  await sweepUntilRenewalStarts(hostname);

  await renewed(hostname);
  const events = await timeline(cloud(), APP, hostname);
  assert.equal(events.filter((event) => event.type === 'IssuanceFailed').length, 0, 'no failure: the fallback is part of the step');
  const exactSet = await cloud().ports.events.read(
    streamIds.bucket(bucketId({ limit: 'certificatesPerExactSet', key: exactSetKey([hostname]) })),
  );
  assert.equal(exactSet.length, 2, 'the plain renewal spent the exact-set budget');
});

test('two sweeps at once (a crashed one and its retry, say) start one renewal and repeat nothing', async () => {
  const hostname = 'www.ari-twice.test';
  const { ariId } = await issued(hostname);
  const past = { start: new Date(Date.now() - 2 * HOUR).toISOString(), end: new Date(Date.now() - HOUR).toISOString() };
  cloud().acmeFaults.setRenewalWindow(ariId, past);
  await Promise.all([cloud().sweep(), cloud().sweep()]);
  await renewed(hostname);
  const events = await timeline(cloud(), APP, hostname);
  const count = (type: string) => events.filter((event) => event.type === type).length;
  assert.deepEqual([count('RenewalDue'), count('IssuanceRequested'), count('CertificateInstalled')], [1, 2, 2]);
});

async function accountUrl(): Promise<string> {
  const last = await cloud().ports.events.readLast(streamIds.caAccount());
  return (last?.data as { accountUrl: string }).accountUrl;
}

test('a renewal that names what it replaces but orders after the window closed pays its exact set once, at the order', async () => {
  const hostname = 'www.ari-late.test';
  const { ariId } = await issued(hostname);
  // The CA's window is already over: the renewal is due at once, but no longer exempt.
  cloud().acmeFaults.setRenewalWindow(ariId, {
    start: new Date(Date.now() - 2 * HOUR).toISOString(),
    end: new Date(Date.now() - HOUR).toISOString(),
  });
  await sweepUntilRenewalStarts(hostname);
  await renewed(hostname);
  const events = await timeline(cloud(), APP, hostname);
  const taken = events.filter((event) => event.type === 'OrderBudgetTaken').map((event) => event.data.kind);
  assert.deepEqual(taken, ['new', 'renewal']);
  const exactSet = await cloud().ports.events.read(
    streamIds.bucket(bucketId({ limit: 'certificatesPerExactSet', key: exactSetKey([hostname]) })),
  );
  assert.equal(exactSet.length, 2, 'two certificates, two tokens: the renewal is not counted again at issuance');
});
