// The edge as the platform documents it, against the whole local cloud: a TLS policy per
// app, enforced per SNI name by the router in real handshakes (openssl s_client and Node's
// tls.connect), changed by the API and the CLI with no restart; challenge paths handed to
// the app when automation is off; the caller's address passed on to the app.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { streamIds } from '../../functions/domain/events.ts';
import { LEGACY_TLS_WARNING, TLS_POLICIES } from '../../functions/domain/tls-policy.ts';
import { LOCAL_DNS_TARGET_SUFFIX } from '../../infra/local/cloud.ts';
import { EXIT, exitCodeForHttpStatus } from '../../cli/exit-codes.ts';
import { runAcm } from '../support/acm-cli.ts';
import { addDomain, api, useLocalCloud, waitForStatus } from '../support/local-cloud.ts';

const cloud = useLocalCloud();
const APP = 'tls';
const HOST = 'www.tls.test';
/** Another app's domain on the same router port: its policy stays its own. */
const OTHER_APP = 'tls-other';
const OTHER_HOST = 'www.tls-other.test';
/** An app whose automation is off when it gets its domain: its challenge paths are its own. */
const OFF_APP = 'tls-off';
const OFF_HOST = 'www.tls-off.test';

const pointAt = (hostname: string, app: string) => cloud().dns.zone.set(hostname, 'CNAME', [`${app}.${LOCAL_DNS_TARGET_SUFFIX}`]);
const appEvents = async (app: string) => (await cloud().ports.events.read(streamIds.app(app))).map((event) => event.type);

/** Pebble's roots, which the certificates the router serves chain to. */
let roots = '';
let setUp: Promise<void> | undefined;

/** Two apps, each with a domain whose certificate the router serves: once, for every test (a top-level `before` would not wait for the cloud's). */
function ready(): Promise<void> {
  setUp ??= (async () => {
    roots = await readFile(cloud().pebbleRootFile, 'utf8');
    for (const [app, hostname] of [
      [APP, HOST],
      [OTHER_APP, OTHER_HOST],
    ] as const) {
      pointAt(hostname, app);
      await addDomain(cloud(), app, hostname);
    }
    await Promise.all([waitForStatus(cloud(), APP, HOST, ['Cert Issued']), waitForStatus(cloud(), OTHER_APP, OTHER_HOST, ['Cert Issued'])]);
  })();
  return setUp;
}

interface Handshake {
  ok: boolean;
  protocol?: string;
  output: string;
}

/** `openssl s_client` with one protocol version, verifying the served certificate against Pebble's roots. */
function openssl(hostname: string, version: 'tls1' | 'tls1_1' | 'tls1_2' | 'tls1_3'): Promise<Handshake> {
  const args = ['s_client', '-connect', `127.0.0.1:${cloud().router.https.port}`, '-servername', hostname, `-${version}`];
  args.push('-CAfile', cloud().pebbleRootFile, '-verify_return_error', '-verify_hostname', hostname, '-brief');
  // OpenSSL 3 offers TLS 1.0 and 1.1 only at security level 0.
  if (version === 'tls1' || version === 'tls1_1') args.push('-cipher', 'DEFAULT@SECLEVEL=0');
  return new Promise((resolve) => {
    const child = execFile('openssl', args, { timeout: 15_000 }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      resolve({ ok: !error, protocol: /Protocol version: (\S+)/.exec(output)?.[1], output });
    });
    child.stdin?.end();
  });
}

/** Node's tls.connect, allowing every version up to `maxVersion`. */
function nodeHandshake(hostname: string, maxVersion: tls.SecureVersion): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: cloud().router.https.port,
      servername: hostname,
      minVersion: 'TLSv1',
      maxVersion,
      ciphers: 'DEFAULT@SECLEVEL=0',
      ca: roots,
    });
    socket.once('secureConnect', () => {
      resolve({ ok: socket.authorized, protocol: socket.getProtocol() ?? undefined, output: '' });
      socket.end();
    });
    socket.once('error', (error) => resolve({ ok: false, output: error.message }));
  });
}

async function assertAccepted(hostname: string, version: Parameters<typeof openssl>[1], protocol: string): Promise<void> {
  const handshake = await openssl(hostname, version);
  assert.ok(handshake.ok, `openssl -${version} to ${hostname} should be accepted: ${handshake.output}`);
  assert.equal(handshake.protocol, protocol);
}

async function assertRefused(hostname: string, version: Parameters<typeof openssl>[1]): Promise<void> {
  const handshake = await openssl(hostname, version);
  assert.ok(!handshake.ok, `openssl -${version} to ${hostname} should be refused: ${handshake.output}`);
  assert.match(handshake.output, /alert protocol version|unsupported protocol|no protocols available/i);
}

const setPolicy = (app: string, policy: unknown) => api(cloud(), 'PUT', `/apps/${app}/tls-policy`, { policy });

test('an app starts with default: TLS 1.2 and 1.3 accepted, TLS 1.1 refused (openssl and Node)', async () => {
  await ready();
  const { status, body } = await api(cloud(), 'GET', `/apps/${APP}/tls-policy`);
  assert.equal(status, 200);
  assert.deepEqual(body, { app: APP, ...TLS_POLICIES.default });
  await assertAccepted(HOST, 'tls1_2', 'TLSv1.2');
  await assertAccepted(HOST, 'tls1_3', 'TLSv1.3');
  await assertRefused(HOST, 'tls1_1');
  assert.deepEqual(await nodeHandshake(HOST, 'TLSv1.2'), { ok: true, protocol: 'TLSv1.2', output: '' });
  assert.equal((await nodeHandshake(HOST, 'TLSv1.1')).ok, false);
});

test('modern: the next handshake is TLS 1.3 only, per SNI name (another app on the same port keeps default), no restart', async () => {
  await ready();
  const before = await appEvents(APP);
  const { status, body } = await setPolicy(APP, 'modern');
  assert.equal(status, 200);
  assert.deepEqual({ ...body, changedAt: undefined }, { app: APP, ...TLS_POLICIES.modern, changedAt: undefined });
  assert.ok(Date.parse(body.changedAt) > 0);
  assert.deepEqual(await appEvents(APP), [...before, 'TlsPolicyChanged']);

  await assertRefused(HOST, 'tls1_2');
  await assertAccepted(HOST, 'tls1_3', 'TLSv1.3');
  assert.equal((await nodeHandshake(HOST, 'TLSv1.2')).ok, false, 'Node with maxVersion TLSv1.2 is refused too');
  assert.deepEqual(await nodeHandshake(HOST, 'TLSv1.3'), { ok: true, protocol: 'TLSv1.3', output: '' });
  // The same port, another name: that app's policy.
  await assertAccepted(OTHER_HOST, 'tls1_2', 'TLSv1.2');

  const status2 = await api(cloud(), 'GET', `/apps/${APP}/acm`);
  assert.deepEqual(status2.body.tlsPolicy, { ...TLS_POLICIES.modern, changedAt: body.changedAt }, "the app's status publishes it");
});

test('legacy: TLS 1.1 and 1.0 accepted (the client at security level 0), with the warning; back to default refuses 1.1 again', async () => {
  await ready();
  const { status, body } = await setPolicy(APP, 'legacy');
  assert.equal(status, 200);
  assert.equal(body.policy, 'legacy');
  assert.equal(body.warning, LEGACY_TLS_WARNING);
  assert.equal((await api(cloud(), 'GET', `/apps/${APP}/tls-policy`)).body.warning, LEGACY_TLS_WARNING);

  await assertAccepted(HOST, 'tls1_1', 'TLSv1.1');
  await assertAccepted(HOST, 'tls1', 'TLSv1');
  await assertAccepted(HOST, 'tls1_3', 'TLSv1.3');
  assert.deepEqual(await nodeHandshake(HOST, 'TLSv1.1'), { ok: true, protocol: 'TLSv1.1', output: '' });
  await assertRefused(OTHER_HOST, 'tls1_1');

  assert.equal((await setPolicy(APP, 'default')).status, 200);
  await assertRefused(HOST, 'tls1_1');
  assert.equal((await nodeHandshake(HOST, 'TLSv1.1')).ok, false);
  await assertAccepted(HOST, 'tls1_2', 'TLSv1.2');
});

test('every change is told to the edge (TlsPolicyChanged) from the log, once per change; a repeat appends and tells nothing', async () => {
  await ready();
  const told = () => cloud().notifications.tlsPolicyChanges.filter((event) => event.app === APP);
  const changes = (await cloud().ports.events.read(streamIds.app(APP))).filter((event) => event.type === 'TlsPolicyChanged');
  // The projector tells the edge as the stream delivers the change: a moment after the answer.
  await cloud().projectorCaughtUp();
  assert.deepEqual(
    changes.map((event) => event.data),
    [
      { policy: 'modern', previous: 'default' },
      { policy: 'legacy', previous: 'modern' },
      { policy: 'default', previous: 'legacy' },
    ],
  );
  assert.deepEqual(
    told().map(({ policy, version, notificationId, elbSecurityPolicy, hostnames }) => ({
      policy,
      version,
      notificationId,
      elbSecurityPolicy,
      hostnames,
    })),
    changes.map((event) => ({
      policy: (event.data as { policy: 'modern' | 'default' | 'legacy' }).policy,
      version: event.version,
      notificationId: `tls-policy#${APP}#${event.version}`,
      elbSecurityPolicy: TLS_POLICIES[(event.data as { policy: 'modern' | 'default' | 'legacy' }).policy].elbSecurityPolicy,
      hostnames: [HOST],
    })),
  );

  const before = await appEvents(APP);
  const toldBefore = told().length;
  assert.equal((await setPolicy(APP, 'default')).status, 200);
  assert.deepEqual(await appEvents(APP), before, 'the same policy again records nothing');
  await cloud().projectorCaughtUp();
  assert.equal(told().length, toldBefore, 'and tells nothing new');

  const fresh = await api(cloud(), 'PUT', `/apps/${OTHER_APP}/tls-policy`, { policy: 'default' });
  assert.equal(fresh.status, 200);
  assert.equal(fresh.body.changedAt, undefined);
  await cloud().projectorCaughtUp();
  assert.deepEqual(
    cloud().notifications.tlsPolicyChanges.filter((event) => event.app === OTHER_APP),
    [],
    'choosing the default an app has changes nothing, and nothing is told',
  );
});

test('bad input is a 400 naming the field and the allowed values, and nothing is appended or told', async () => {
  await ready();
  const before = await appEvents(APP);
  const told = cloud().notifications.tlsPolicyChanges.length;
  for (const [body, message] of [
    [{ policy: 'ultra' }, 'policy: must be one of modern, default, legacy'],
    [{ policy: 'MODERN' }, 'policy: must be one of modern, default, legacy'],
    [{}, 'policy: is required'],
  ] as const) {
    const answer = await api(cloud(), 'PUT', `/apps/${APP}/tls-policy`, body);
    assert.deepEqual([answer.status, answer.body], [400, { error: { code: 'BAD_REQUEST', message } }], JSON.stringify(body));
  }
  assert.deepEqual(await appEvents(APP), before);
  assert.equal(cloud().notifications.tlsPolicyChanges.length, told);
  assert.equal((await api(cloud(), 'GET', `/apps/${APP}/tls-policy`)).body.policy, 'default');

  // An app that does not exist, or that the token does not cover: the same 404.
  assert.equal((await setPolicy('no-such-app', 'modern')).status, 404);
  assert.deepEqual(await appEvents('no-such-app'), []);
  const foreign = await api(cloud(), 'PUT', `/apps/${APP}/tls-policy`, { policy: 'modern' }, cloud().tokens.forApps(OTHER_APP));
  assert.equal(foreign.status, 404);
  assert.equal((await api(cloud(), 'GET', `/apps/${APP}/tls-policy`, undefined, cloud().tokens.forApps(OTHER_APP))).status, 404);
  assert.deepEqual(await appEvents(APP), before);
});

/** `acm ARGS` with a token for the app. */
const acm = (args: string[]) => runAcm(args, { ACM_API_URL: cloud().apiUrl, ACM_TOKEN: cloud().tokens.forApps(APP), ACM_APP: APP });

test('CLI: acm tls shows the policy, acm tls:set sets it (legacy with its warning), a bad policy is the API 400', async () => {
  await ready();
  const shown = await acm(['tls']);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /^=== TLS policy of tls: default\n\nProtocols: +TLSv1\.2, TLSv1\.3\nCiphers: +TLS_AES_128_GCM_SHA256, /);
  assert.match(shown.stdout, /\nAWS: +ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09\n/);
  assert.doesNotMatch(shown.stdout, /WARNING/);

  const legacy = await acm(['tls:set', 'legacy']);
  assert.equal(legacy.code, 0, legacy.stderr);
  assert.match(legacy.stdout, /^=== Set the TLS policy of tls to legacy\n\nProtocols: +TLSv1, TLSv1\.1, TLSv1\.2, TLSv1\.3\n/);
  assert.match(legacy.stdout, /The edge applies it from the next TLS handshake\./);
  assert.ok(legacy.stdout.trimEnd().endsWith(`WARNING: ${LEGACY_TLS_WARNING}`), legacy.stdout);
  await assertAccepted(HOST, 'tls1_1', 'TLSv1.1');
  assert.match((await acm(['tls'])).stdout, /WARNING: legacy accepts TLS 1\.0 and 1\.1/);

  const json = await acm(['tls:set', 'modern', '--json']);
  assert.equal(json.code, 0, json.stderr);
  const answer = JSON.parse(json.stdout);
  assert.deepEqual({ ...answer, changedAt: undefined }, { app: APP, ...TLS_POLICIES.modern, changedAt: undefined });
  await assertRefused(HOST, 'tls1_2');

  const bad = await acm(['tls:set', 'ultra']);
  assert.equal(bad.code, exitCodeForHttpStatus(400));
  assert.equal(bad.stdout, '');
  assert.equal(bad.stderr, 'acm: policy: must be one of modern, default, legacy\n');
  const missing = await acm(['tls:set']);
  assert.equal(missing.code, EXIT.usage);
  assert.equal((await api(cloud(), 'GET', `/apps/${APP}/tls-policy`)).body.policy, 'modern');
});

/** A request through the router's plain HTTP port, as a client with `Host: hostname` sends it. */
function viaHttp(hostname: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      { host: '127.0.0.1', port: cloud().router.http.port, path, headers: { host: hostname, ...headers } },
      (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    request.on('error', reject);
  });
}

const reachedApp = (path: string) => cloud().router.app.requests.filter((request) => request.url === path).length;

test('challenge paths reach the app only while its automation is off; with it on, the platform answers them', async () => {
  await ready();
  assert.equal((await api(cloud(), 'POST', `/apps/${OFF_APP}/acm`)).status, 202);
  assert.equal((await api(cloud(), 'DELETE', `/apps/${OFF_APP}/acm`)).status, 202);
  pointAt(OFF_HOST, OFF_APP);
  await addDomain(cloud(), OFF_APP, OFF_HOST);
  const path = '/.well-known/acme-challenge/owners-own-token';

  const off = await viaHttp(OFF_HOST, path);
  assert.equal(off.status, 200);
  assert.deepEqual([JSON.parse(off.body).servedBy, JSON.parse(off.body).url], ['app', path]);
  assert.equal(reachedApp(path), 1);

  // Automation on: the platform answers challenge paths (Pebble's validation goes through them), the app sees none.
  assert.equal((await api(cloud(), 'POST', `/apps/${OFF_APP}/acm`)).status, 202);
  await waitForStatus(cloud(), OFF_APP, OFF_HOST, ['Cert Issued']);
  const on = await viaHttp(OFF_HOST, path);
  assert.equal(on.status, 404, 'an unknown token: the challenge route says so');
  assert.equal(reachedApp(path), 1, 'the app saw nothing more');
  assert.equal(cloud().router.app.requests.filter((request) => request.url.startsWith('/.well-known/acme-challenge/')).length, 1);

  // Other paths always go to the app.
  assert.equal(JSON.parse((await viaHttp(OFF_HOST, '/index.html')).body).servedBy, 'app');
});

test('the app sees the caller: X-Forwarded-For appended to what the client sent, X-Forwarded-Proto and -Port set by the edge', async () => {
  await ready();
  const plain = JSON.parse(
    (await viaHttp(OTHER_HOST, '/who', { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https', 'x-forwarded-port': '1' })).body,
  );
  assert.equal(plain.url, '/who');
  assert.equal(plain.headers.host, OTHER_HOST);
  assert.equal(plain.headers['x-forwarded-for'], '203.0.113.7, 127.0.0.1', 'the claim is kept, the real caller appended');
  assert.equal(plain.headers['x-forwarded-proto'], 'http');
  assert.equal(plain.headers['x-forwarded-port'], String(cloud().router.http.port));

  const secure = await new Promise<any>((resolve, reject) => {
    const request = https.get(
      {
        host: '127.0.0.1',
        port: cloud().router.https.port,
        servername: OTHER_HOST,
        path: '/secure?x=1',
        headers: { host: `${OTHER_HOST}:${cloud().router.https.port}` },
        ca: roots,
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve(JSON.parse(body)));
      },
    );
    request.on('error', reject);
  });
  assert.equal(secure.url, '/secure?x=1');
  assert.equal(secure.headers['x-forwarded-for'], '127.0.0.1');
  assert.equal(secure.headers['x-forwarded-proto'], 'https');
  assert.equal(secure.headers['x-forwarded-port'], String(cloud().router.https.port));
});
