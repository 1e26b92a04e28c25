// Renewal end to end, with Pebble issuing 12-second certificates: the sweep finds a
// certificate due (half its lifetime left: under 10 days), renews it into the same ARN while
// the status stays "Cert Issued"; a renewal that fails says why and the old
// certificate keeps serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LOCAL_DNS_TARGET_SUFFIX, type LocalCloud } from '../../infra/local/cloud.ts';
import { addDomain, timeline, useLocalCloud, waitForDomain, waitForStatus, api } from '../support/local-cloud.ts';
import { servedByRouter } from '../support/router-tls.ts';

// Without ARI in the directory: the fixed rule (half the lifetime, under 10 days). ari.test.ts covers ARI.
const cloud = useLocalCloud({
  renewalInfo: false,
  certificateValidityPeriod: 12,
  sweepIntervalMs: 250,
  settings: { renewalJitterSeconds: 2, retryPolicy: { firstRetryDelayMs: 60_000 } },
});
const APP = 'renewals';
const TARGET = `${APP}.${LOCAL_DNS_TARGET_SUFFIX}`;

/** Verification off: the old certificate may be seconds from expiry; we only ask which one is served. */
async function servedSerial(target: LocalCloud, hostname: string): Promise<string> {
  return (await servedByRouter(target.router.https.port, hostname)).serialNumber;
}

async function statusesUntil(hostname: string, done: (status: { status: string; expiresAt?: string }) => boolean, timeoutMs: number) {
  const seen = new Set<string>();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { body } = await api(cloud(), 'GET', `/apps/${APP}/acm`);
    const status = body.domains.find((domain: { hostname: string }) => domain.hostname === hostname);
    seen.add(status.status);
    if (done(status)) return { status, seen };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${hostname}: condition not reached in ${timeoutMs} ms (seen ${[...seen].join(', ')})`);
}

test('a certificate due for renewal is renewed into the same ARN; the status stays "Cert Issued"', async () => {
  cloud().dns.zone.set('www.renew.test', 'CNAME', [TARGET]);
  await addDomain(cloud(), APP, 'www.renew.test');
  const first = await waitForStatus(cloud(), APP, 'www.renew.test', ['Cert Issued']);
  const lifetime = Date.parse(first.expiresAt!) - Date.parse(first.renewsAt!);
  assert.ok(lifetime > 5000 && lifetime <= 6000, `renews with half of 12 s left, not ${lifetime} ms`);

  const { status: renewed, seen } = await statusesUntil('www.renew.test', (status) => status.expiresAt !== first.expiresAt, 20_000);
  assert.deepEqual([...seen], ['Cert Issued'], 'the status never left "Cert Issued" while renewing');
  assert.ok(Date.parse(renewed.expiresAt) > Date.parse(first.expiresAt!));

  const events = await timeline(cloud(), APP, 'www.renew.test');
  const installs = events.filter((event) => event.type === 'CertificateInstalled');
  assert.ok(installs.length >= 2);
  assert.equal(installs[1]!.data.certificateArn, installs[0]!.data.certificateArn, 'renewal re-imports into the same ARN');
  const due = events.find((event) => event.type === 'RenewalDue')!;
  assert.ok(Date.parse(due.at) >= Date.parse(first.renewsAt!), 'not renewed before it was due');
  const request = events.filter((event) => event.type === 'IssuanceRequested')[1]!;
  assert.deepEqual([request.data.attempt, request.data.trigger], [2, 'renewal']);
  const issued = events.filter((event) => event.type === 'CertificateIssued');
  const current = issued.find((event) => event.data.notAfter === renewed.expiresAt)!;
  assert.equal(await servedSerial(cloud(), 'www.renew.test'), current.data.serialNumber, 'the router serves the renewed certificate');
});

test('a renewal that fails says why, keeps the expiry, and the old certificate keeps serving', async () => {
  cloud().dns.zone.set('www.renew-broken.test', 'CNAME', [TARGET]);
  await addDomain(cloud(), APP, 'www.renew-broken.test');
  const issued = await waitForStatus(cloud(), APP, 'www.renew-broken.test', ['Cert Issued']);
  const serial = await servedSerial(cloud(), 'www.renew-broken.test');
  cloud().dns.zone.remove('www.renew-broken.test');

  const failing = await waitForStatus(cloud(), APP, 'www.renew-broken.test', ['Failing', 'Failed'], 20_000);
  assert.equal(failing.reason, 'NXDOMAIN');
  assert.match(failing.message ?? '', /does not exist in DNS/);
  assert.equal(failing.expiresAt, issued.expiresAt, 'the status still shows the serving certificate');
  assert.equal(await servedSerial(cloud(), 'www.renew-broken.test'), serial, 'the old certificate keeps serving');
  const events = await timeline(cloud(), APP, 'www.renew-broken.test');
  const types = events.map((event) => event.type).filter((type) => type !== 'ExpiryNoticeSent');
  assert.deepEqual(types.slice(types.indexOf('RenewalDue')), ['RenewalDue', 'IssuanceRequested', 'DnsCheckFailed', 'IssuanceFailed']);
});

test('a certificate not renewed in time: its owners are told once, with why, and the status shows the notice', async () => {
  cloud().dns.zone.set('www.renew-late.test', 'CNAME', [TARGET]);
  await addDomain(cloud(), APP, 'www.renew-late.test');
  const issued = await waitForStatus(cloud(), APP, 'www.renew-late.test', ['Cert Issued']);
  cloud().dns.zone.remove('www.renew-late.test');
  const sent = () =>
    cloud().notifications.sent.filter((notice) => notice.detailType === 'CertificateExpiring' && notice.hostname === 'www.renew-late.test');
  // 12-second certificates: every day threshold is crossed, so the last one (1 day) goes, once the renewal is late.
  const deadline = Date.now() + 15_000;
  while (sent().length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  await new Promise((resolve) => setTimeout(resolve, 1000)); // four more sweeps
  assert.equal(sent().length, 1, 'told once');
  const [notice] = sent();
  assert.equal(notice?.detailType, 'CertificateExpiring');
  assert.deepEqual([notice.managed, notice.threshold, notice.daysLeft, notice.expiresAt], [true, 1, 0, issued.expiresAt]);
  assert.equal(notice.reason, 'NXDOMAIN');
  assert.match(notice.message ?? '', /does not exist in DNS/);
  assert.ok(Date.now() >= Date.parse(issued.renewsAt!), 'not before the renewal was due');

  const recorded = (await timeline(cloud(), APP, 'www.renew-late.test')).filter((event) => event.type === 'ExpiryNoticeSent');
  assert.equal(recorded.length, 1);
  assert.equal(recorded[0]!.data.notificationId, notice.notificationId);
  const status = await waitForDomain(cloud(), APP, 'www.renew-late.test', (row) => Boolean(row.notices), 'show its notice');
  assert.deepEqual(
    status.notices?.map(({ type, notificationId, threshold }) => ({ type, notificationId, threshold })),
    [{ type: 'CertificateExpiring', notificationId: notice.notificationId, threshold: 1 }],
  );
});
