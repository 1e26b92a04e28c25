// Enhanced certificates for Postgres on the real local stack: a real PostgreSQL per
// database, DNS-01 through the local zone that Pebble validates against, and the real
// psql as the client. Nothing is mocked: every assertion is about what psql or a TLS
// handshake sees, or what the log recorded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { dnsChallengeName } from '../../functions/adapters/dns/dns-challenge-zone.ts';
import type { PostgresCluster } from '../../infra/local/postgres.ts';
import { api, HAPPY_PATH_EVENTS, timeline, useLocalCloud } from '../support/local-cloud.ts';
import { clusterConnection, openSession, psql, psqlAt, servedSerial, type Connection } from '../support/postgres-clients.ts';

const cloud = useLocalCloud({ sweepIntervalMs: 60 * 60_000, settings: { retryPolicy: { firstRetryDelayMs: 60_000 } } });
const APP = 'shop';
/** What the previous URL says: encrypted, the server not verified (libpq verifies whenever it is given a root). */
const REQUIRE = { sslmode: 'require', sslrootcert: undefined } as const;
const path = (database: string, rest = '') => `/apps/${APP}/databases/${database}/enhanced-certificates${rest}`;

const connection = (cluster: PostgresCluster, overrides: Partial<Connection> = {}) =>
  clusterConnection(cluster, cloud().pebbleRootFile, overrides);

async function statusUntil(database: string, done: (status: any) => boolean, timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: any;
  while (Date.now() < deadline) {
    last = (await api(cloud(), 'GET', path(database))).body;
    if (done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${database}: not reached in ${timeoutMs} ms; last status ${JSON.stringify(last)}`);
}

/** A database the platform added, with enhanced certificates enabled and issued. */
async function issuedDatabase(database: string) {
  const cluster = await cloud().addDatabase(APP, database);
  const enabled = await api(cloud(), 'POST', path(database));
  assert.equal(enabled.status, 202, JSON.stringify(enabled.body));
  const status = await statusUntil(database, (status) => status.status === 'Cert Issued');
  return { cluster, status };
}

async function writeRoot(name: string, pem: string): Promise<string> {
  const file = join(cloud().dataDir, name);
  await writeFile(file, pem);
  return file;
}

test('enabling issues a public certificate by DNS-01: verify-full connects, a wrong root or a wrong name does not', async () => {
  const cluster = await cloud().addDatabase(APP, 'orders');
  const before = await api(cloud(), 'GET', path('orders'));
  assert.deepEqual([before.status, before.body.status, before.body.enabled], [200, 'Disabled', false]);
  // Before: the platform-signed certificate, which only `require` accepts.
  assert.equal((await psql(connection(cluster, REQUIRE), 'SELECT 1')).stdout, '1');
  assert.match((await psql(connection(cluster), 'SELECT 1')).stderr, /certificate verify failed/);

  assert.equal((await api(cloud(), 'POST', path('orders'))).status, 202);
  const status = await statusUntil('orders', (status) => status.status === 'Cert Issued');
  assert.equal(status.hostname, `orders.${APP}.db.localcloud.test`);
  assert.match(status.connectionUrl, /^postgresql:\/\/orders\.shop\.db\.localcloud\.test:\d+\/orders\?sslmode=verify-full&sslrootcert=/);
  assert.match(status.previousConnectionUrl, /sslmode=require/);

  const verified = await psql(connection(cluster), 'SELECT current_user');
  assert.deepEqual([verified.code, verified.stdout], [0, cluster.user], verified.stderr);
  // The URL the status gives is the one that connects (credentials are the platform's, added by the client).
  const byUrl = await psqlAt(`${status.connectionUrl}&user=${cluster.user}`, cluster.password, 'SELECT 2');
  assert.equal(byUrl.stdout, '2', byUrl.stderr);
  // The previous URL keeps working.
  assert.equal((await psql(connection(cluster, REQUIRE), 'SELECT 3')).stdout, '3');
  // Another CA's root: the chain does not verify.
  const wrongRoot = await psql(connection(cluster, { sslrootcert: cloud().platformCa.certificateFile }), 'SELECT 1');
  assert.notEqual(wrongRoot.code, 0);
  assert.match(wrongRoot.stderr, /certificate verify failed/);
  // The right root but another name at the same address: the name does not match.
  const wrongName = await psql(connection(cluster, { host: 'other.shop.db.localcloud.test' }), 'SELECT 1');
  assert.notEqual(wrongName.code, 0);
  assert.match(wrongName.stderr, /does not match host name "other\.shop\.db\.localcloud\.test"/);

  const types = (await timeline(cloud(), APP, status.hostname)).map((event) => event.type);
  // A domain's happy path, the same steps and events, started by the platform's DatabaseAdded.
  assert.deepEqual(types, ['DatabaseAdded', ...HAPPY_PATH_EVENTS.slice(1)]);
  // Validated: the TXT answer is out of the zone again.
  assert.equal(cloud().dns.zone.answer(dnsChallengeName(status.hostname), 16)?.answers.length ?? 0, 0);
});

test("the status lists the test's own SSL connection from pg_stat_ssl", async () => {
  const { cluster } = await issuedDatabase('analytics');
  const session = await openSession(connection(cluster));
  try {
    const { body } = await api(cloud(), 'GET', path('analytics'));
    const ours = body.sslConnections.find((row: any) => row.usename === cluster.user && row.datname === cluster.database);
    assert.ok(ours, JSON.stringify(body.sslConnections));
    assert.equal(ours.clientAddr, '127.0.0.1');
    assert.match(ours.version, /^TLSv1\.[23]$/);
    assert.ok(ours.cipher.length > 0);
  } finally {
    await session.close();
  }
});

test('a renewal installs with a reload: the open connection keeps answering, a new one gets the new serial', async () => {
  const { cluster, status } = await issuedDatabase('billing');
  const firstSerial = await servedSerial(cluster.port, status.hostname);
  const session = await openSession(connection(cluster));
  try {
    const events = await timeline(cloud(), APP, status.hostname);
    const ariId = events.find((event) => event.type === 'CertificateIssued')!.data.ariId as string;
    // The CA moves the window to now (a revocation): the sweep renews, with `replaces`.
    const now = Date.now();
    cloud().acmeFaults.setRenewalWindow(ariId, { start: new Date(now - 60_000).toISOString(), end: new Date(now + 1000).toISOString() });
    await cloud().sweep();
    await statusUntil('billing', () => true);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await cloud().sweep();
    const deadline = Date.now() + 30_000;
    let installs: Array<{ data: Record<string, any> }> = [];
    while (Date.now() < deadline) {
      installs = (await timeline(cloud(), APP, status.hostname)).filter((event) => event.type === 'CertificateInstalled');
      if (installs.length >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(installs.length, 2, 'renewed');
    assert.equal(await session.query('SELECT 40 + 2'), '42', 'the connection opened before the renewal still answers');
    const issued = (await timeline(cloud(), APP, status.hostname)).filter((event) => event.type === 'CertificateIssued');
    const newSerial = await servedSerial(cluster.port, status.hostname);
    assert.notEqual(newSerial, firstSerial);
    assert.equal(newSerial, issued.at(-1)!.data.serialNumber);
    assert.equal((await psql(connection(cluster), 'SELECT 1')).stdout, '1');
  } finally {
    await session.close();
  }
});

test('rotation: a client trusting only the old root connects before and fails after; one trusting the bundle connects throughout', async () => {
  const { cluster, status } = await issuedDatabase('ledger');
  assert.equal(status.availableRoots.length, 2, JSON.stringify(status));
  const oldRoot = status.servedRoot as string;
  const newRoot = status.availableRoots.find((root: string) => root !== oldRoot) as string;
  const bundle = await api(cloud(), 'GET', path('ledger', '/trust-bundle'));
  assert.equal(bundle.status, 200);
  const roots = (bundle.body as string).match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n?/g) ?? [];
  assert.equal(roots.length, 2);
  const rootNamed = (name: string) => roots.find((pem) => new X509Certificate(pem).subject.includes(name))!;
  const oldOnly = await writeRoot('old-root-only.pem', rootNamed(oldRoot));
  const bundleFile = await writeRoot('trust-bundle.pem', bundle.body);
  const ordersBefore = cloud().acmeFaults.log.filter((entry) => entry.operation === 'newOrder').length;

  assert.equal((await psql(connection(cluster, { sslrootcert: oldOnly }), 'SELECT 1')).stdout, '1');
  assert.equal((await psql(connection(cluster, { sslrootcert: bundleFile }), 'SELECT 1')).stdout, '1');
  const session = await openSession(connection(cluster, { sslrootcert: bundleFile }));
  try {
    const rotated = await api(cloud(), 'POST', path('ledger', '/rotate'), { root: newRoot });
    assert.equal(rotated.status, 202, JSON.stringify(rotated.body));
    assert.equal(rotated.body.servedRoot, newRoot);
    assert.match(rotated.body.guidance, /must trust the trust bundle/);

    const oldClient = await psql(connection(cluster, { sslrootcert: oldOnly }), 'SELECT 1');
    assert.notEqual(oldClient.code, 0);
    assert.match(oldClient.stderr, /certificate verify failed/);
    assert.equal((await psql(connection(cluster, { sslrootcert: bundleFile }), 'SELECT 1')).stdout, '1');
    assert.equal(await session.query('SELECT 7'), '7', 'no restart: the open session survives the rotation');
  } finally {
    await session.close();
  }
  // Same certificate, no new order.
  assert.equal(cloud().acmeFaults.log.filter((entry) => entry.operation === 'newOrder').length, ordersBefore);
  const events = await timeline(cloud(), APP, status.hostname);
  assert.deepEqual([events.at(-1)!.type, events.at(-1)!.data.root], ['ServedRootChanged', newRoot]);

  const unknown = await api(cloud(), 'POST', path('ledger', '/rotate'), { root: 'Nobody Root' });
  assert.equal(unknown.status, 400);
  assert.match(unknown.body.error.message, /^root: must be one of the roots offered for this certificate: /);
  assert.equal((await timeline(cloud(), APP, status.hostname)).length, events.length, 'nothing appended on bad input');
});

test('disabling warns first; then require still connects and verify-full with the public roots fails', async () => {
  const { cluster } = await issuedDatabase('reports');
  const disabled = await api(cloud(), 'DELETE', path('reports'));
  assert.equal(disabled.status, 202);
  assert.deepEqual([disabled.body.database, disabled.body.enabled], ['reports', false]);
  assert.match(disabled.body.warning, /sslmode=verify-full must move to sslmode=require first/);
  assert.equal((await psql(connection(cluster, REQUIRE), 'SELECT 1')).stdout, '1');
  const verifyFull = await psql(connection(cluster), 'SELECT 1');
  assert.notEqual(verifyFull.code, 0);
  assert.match(verifyFull.stderr, /certificate verify failed/);
  const status = (await api(cloud(), 'GET', path('reports'))).body;
  assert.deepEqual([status.status, status.enabled, status.servedRoot], ['Disabled', false, undefined]);
  const last = (await timeline(cloud(), APP, status.hostname)).at(-1)!;
  assert.deepEqual([last.type, last.data.reason], ['CertificateRemoved', 'enhanced-certificates-disabled']);
});

test('DNS-01 answer not visible at the resolver: fails before the CA is asked, with a reason and a message', async () => {
  const cluster = await cloud().addDatabase(APP, 'search');
  const record = dnsChallengeName(cluster.hostname);
  cloud().dns.zone.fail(record, 'servfail', 'TXT');
  assert.equal((await api(cloud(), 'POST', path('search'))).status, 202);
  const status = await statusUntil('search', (status) => status.status === 'Failing');
  assert.equal(status.reason, 'DNS_CHALLENGE_NOT_VISIBLE');
  assert.equal(
    status.message,
    `The DNS-01 answer is not visible at ${record}: the lookup failed (SERVFAIL). We will try again; if it lasts, an operator must check the platform's DNS zone and its servers.`,
  );
  const events = await timeline(cloud(), APP, cluster.hostname);
  assert.deepEqual(
    events.slice(-2).map((event) => [event.type, event.data.reason]),
    [
      ['ChallengePublished', undefined],
      ['IssuanceFailed', 'DNS_CHALLENGE_NOT_VISIBLE'],
    ],
  );
  const asked = cloud().acmeFaults.log.filter((entry) => entry.operation === 'challenge' && entry.hostname === cluster.hostname);
  assert.deepEqual(asked, [], 'the CA was never asked to validate');
  await api(cloud(), 'DELETE', path('search'));
});

test('the CA finds another TXT value than our pre-flight saw: its unauthorized answer ends in a reason and a message', async () => {
  const cluster = await cloud().addDatabase(APP, 'events');
  const record = dnsChallengeName(cluster.hostname);
  // Our pre-flight sees the published value; by the time the CA looks, the zone holds another.
  cloud().dns.zone.changeAfter(record, 'TXT', 1, ['stale-value-from-another-run']);
  assert.equal((await api(cloud(), 'POST', path('events'))).status, 202);
  const status = await statusUntil('events', (status) => status.status === 'Failing');
  assert.equal(status.reason, 'DNS_CHALLENGE_NOT_VISIBLE');
  assert.match(
    status.message,
    new RegExp(`^The DNS-01 answer is not visible at ${record.replace(/\./g, '\\.')}: it holds "stale-value-from-another-run" instead\\.`),
  );
  assert.match(status.message, /\(The certificate authority said: .+\)$/);
  const failure = (await timeline(cloud(), APP, cluster.hostname)).at(-1)!;
  assert.equal(failure.type, 'IssuanceFailed');
  assert.match(failure.data.problem.type, /unauthorized$/);
  await api(cloud(), 'DELETE', path('events'));
});

test('DatabaseAdded and DatabaseRemoved are handled once and in any order', async () => {
  const fire = (type: string, eventId: string, minutesAgo: number) =>
    cloud().firePlatformEvent(type, { eventId, app: APP, database: 'late', port: 6543 }, new Date(Date.now() - minutesAgo * 60_000));
  const hostname = `late.${APP}.db.localcloud.test`;
  // The removal (newer) arrives before the add (older): the database stays removed.
  await fire('DatabaseRemoved', 'db-late-removed', 1);
  await fire('DatabaseAdded', 'db-late-added', 2);
  await fire('DatabaseAdded', 'db-late-added', 2);
  assert.deepEqual(
    (await timeline(cloud(), APP, hostname)).map((event) => event.type),
    ['DatabaseRemoved'],
  );
  assert.equal((await api(cloud(), 'GET', path('late'))).status, 404);
  // A newer add brings it back, once, however often it is delivered.
  await fire('DatabaseAdded', 'db-late-added-again', 0);
  await fire('DatabaseAdded', 'db-late-added-again', 0);
  assert.deepEqual(
    (await timeline(cloud(), APP, hostname)).map((event) => event.type),
    ['DatabaseRemoved', 'DatabaseAdded'],
  );
  const listed = (await api(cloud(), 'GET', `/apps/${APP}/databases`)).body as Array<{ database: string; port: number }>;
  assert.deepEqual(
    listed.find((database) => database.database === 'late'),
    { database: 'late', hostname, port: 6543 },
  );
  // A name that cannot be a database host is dropped with the rule, not retried.
  const dropped = await cloud().firePlatformEvent('DatabaseAdded', { eventId: 'db-bad', app: APP, database: 'Not_A_Label' });
  assert.match(JSON.stringify(dropped), /database: must be 1 to 63 lowercase letters, digits or hyphens/);
});

test('bad input is a 400 naming the field and the rule, an unknown database a 404, and nothing is appended', async () => {
  await cloud().firePlatformEvent('DatabaseAdded', { eventId: 'db-input', app: APP, database: 'inputs' });
  const hostname = `inputs.${APP}.db.localcloud.test`;
  const before = (await timeline(cloud(), APP, hostname)).length;
  const badName = await api(cloud(), 'POST', path('Bad_Name'));
  assert.deepEqual(
    [badName.status, badName.body.error.message],
    [400, 'database: must be 1 to 63 lowercase letters, digits or hyphens, not starting or ending with a hyphen'],
  );
  const unknown = await api(cloud(), 'GET', path('nosuch'));
  assert.deepEqual([unknown.status, unknown.body.error.message], [404, `nosuch is not a database of ${APP}`]);
  const noRoot = await api(cloud(), 'POST', path('inputs', '/rotate'), {});
  assert.deepEqual([noRoot.status, noRoot.body.error.message], [400, 'root: is required']);
  const notIssued = await api(cloud(), 'POST', path('inputs', '/rotate'), { root: 'Any Root' });
  assert.deepEqual([notIssued.status, notIssued.body.error.message], [400, 'root: the database has no certificate issued yet to rotate']);
  const noBundle = await api(cloud(), 'GET', path('inputs', '/trust-bundle'));
  assert.equal(noBundle.status, 409);
  const asDomain = await api(cloud(), 'POST', `/apps/${APP}/domains`, { hostname });
  assert.deepEqual(
    [asDomain.status, asDomain.body.error.message],
    [400, "hostname: names under db.localcloud.test are the platform's database hosts, not custom domains"],
  );
  assert.equal((await timeline(cloud(), APP, hostname)).length, before);
});
