// The local cloud survives a crash: killed with SIGKILL (its whole process group, so
// Pebble forgets everything too, as after a CA-side reset) while an issuance runs, then
// started again on the same folder, the reconciler finishes what the crash left open.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AFTER_IMPORT, startCloudProcess, type CloudProcess, type CloudProcessReady } from '../support/cloud-process.ts';
import { servedByRouter } from '../support/router-tls.ts';

const APP = 'crash';
const HOSTNAME = 'www.crash.test';
const ORPHANED = 'orphan.crash.test';
const dataDir = await mkdtemp(join(tmpdir(), 'local-cloud-crash-'));
const running: CloudProcess[] = [];
after(async () => {
  for (const cloud of running) cloud.kill();
  await Promise.all(running.map((cloud) => cloud.exited));
  await rm(dataDir, { recursive: true, force: true });
});

function start(killAtState?: string): CloudProcess {
  const cloud = startCloudProcess({ dataDir, app: APP, hostnames: [HOSTNAME, ORPHANED], ...(killAtState && { killAtState }) });
  running.push(cloud);
  return cloud;
}

async function call(ready: CloudProcessReady, method: string, path: string, body?: unknown) {
  const response = await fetch(`${ready.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${ready.operatorToken}`, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as any };
}

async function statusOf(ready: CloudProcessReady, wanted: string, hostname = HOSTNAME, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last: any;
  while (Date.now() < deadline) {
    last = (await call(ready, 'GET', `/apps/${APP}/acm`)).body.domains?.find((domain: any) => domain.hostname === hostname);
    if (last?.status === wanted) return last;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${hostname} did not reach ${wanted}; last ${JSON.stringify(last)}`);
}

/** The certificates the local store holds for the hostname (its records name it in clear; keys are sealed). */
async function storedFor(hostname: string): Promise<number> {
  const folder = join(dataDir, 'certificates');
  const entries = (await readdir(folder, { withFileTypes: true }).catch(() => [])).filter((entry) => entry.isDirectory());
  const records = await Promise.all(
    entries.map(async (entry) => JSON.parse(await readFile(join(folder, entry.name, 'certificate.json'), 'utf8').catch(() => '{}'))),
  );
  return records.filter((record: { hostname?: string }) => record.hostname === hostname).length;
}

/** Verified against the roots the data folder kept. */
async function servedSerial(ready: CloudProcessReady, rootFile: string): Promise<string> {
  return (await servedByRouter(ready.routerHttpsPort, HOSTNAME, await readFile(rootFile, 'utf8'))).serialNumber;
}

test('killed while AskCaToValidate runs, started again: one certificate, no duplicate event, and still served after another restart', async () => {
  const first = start('AskCaToValidate');
  const ready1 = await first.ready;
  assert.equal((await call(ready1, 'POST', `/apps/${APP}/domains`, { hostname: HOSTNAME })).status, 201);
  // The process kills its own group right after the CA was asked: no clean stop, nothing flushed on the way out.
  await first.exited;

  const second = start();
  const ready2 = await second.ready;
  const issued = await statusOf(ready2, 'Cert Issued');
  const { body: events } = await call(ready2, 'GET', `/apps/${APP}/domains/${HOSTNAME}/events`);
  const types = (events as Array<{ type: string }>).map((event) => event.type);
  // The crash left attempt 1 open; the reconciler started it again, and the order the old Pebble knew was gone.
  assert.ok(types.includes('ExecutionRestarted'), types.join(' '));
  assert.ok(types.includes('OrderForgottenByCa'), types.join(' '));
  assert.equal(types.filter((type) => type === 'IssuanceRequested').length, 1, 'one attempt');
  assert.equal(types.filter((type) => type === 'CertificateInstalled').length, 1, 'installed once');
  const orders = (events as Array<{ type: string; data: { orderUrl?: string } }>).filter((event) => event.type === 'OrderCreated');
  assert.equal(new Set(orders.map((order) => order.data.orderUrl)).size, orders.length, 'no order recorded twice');
  const versions = (events as Array<{ version: number }>).map((event) => event.version);
  assert.deepEqual(
    versions,
    versions.map((_, index) => index + 1),
    'gapless versions',
  );
  assert.equal(await storedFor(HOSTNAME), 1, 'one certificate in the store');
  const serial = await servedSerial(ready2, ready2.pebbleRootFile);
  const lastIssued = (events as Array<{ type: string; data: { serialNumber?: string } }>).findLast(
    (event) => event.type === 'CertificateIssued',
  );
  assert.equal(serial, lastIssued?.data.serialNumber);

  // After issuance: killed again, started again, the same certificate is served, verified against the roots kept.
  second.kill();
  await second.exited;
  const third = start();
  const ready3 = await third.ready;
  assert.equal((await statusOf(ready3, 'Cert Issued')).expiresAt, issued.expiresAt);
  assert.equal(await servedSerial(ready3, ready3.pebbleRootFile), serial);
  const { body: after } = await call(ready3, 'GET', `/apps/${APP}/domains/${HOSTNAME}/events`);
  // Nothing was open: the restart starts nothing (its sweep may look at the CA's renewal window, which was due).
  const appended = (after as Array<{ type: string }>).slice(events.length).map((event) => event.type);
  assert.ok(
    appended.every((type) => type === 'RenewalInfoChecked'),
    appended.join(' '),
  );
  third.kill();
  await third.exited;
});

test('killed between the certificate import and its record: the next run deletes what it left and issues once', async () => {
  const crashing = start(AFTER_IMPORT);
  const ready1 = await crashing.ready;
  assert.equal((await call(ready1, 'POST', `/apps/${APP}/domains`, { hostname: ORPHANED })).status, 201);
  await crashing.exited;
  assert.equal(await storedFor(ORPHANED), 1, 'the crash left a certificate no event names');

  const next = start();
  const ready2 = await next.ready;
  await statusOf(ready2, 'Cert Issued', ORPHANED);
  const { body: events } = await call(ready2, 'GET', `/apps/${APP}/domains/${ORPHANED}/events`);
  const abandoned = (events as Array<{ type: string; data: { removed?: string[] } }>).find(
    (event) => event.type === 'InstallationAbandoned',
  );
  assert.equal(abandoned?.data.removed?.length, 1, JSON.stringify(events.map((event: { type: string }) => event.type)));
  const installed = (events as Array<{ type: string; data: { certificateArn?: string } }>).filter(
    (event) => event.type === 'CertificateInstalled',
  );
  assert.equal(installed.length, 1);
  assert.notEqual(installed[0]!.data.certificateArn, abandoned!.data.removed![0], 'the orphan is not the one recorded');
  assert.equal(await storedFor(ORPHANED), 1, 'exactly one certificate: the recorded one');
  next.kill();
  await next.exited;
});
