// The whole HTTP API (../shared/API.md) against the local cloud: every route's happy
// path, bad input (which changes nothing), a token for another app and an unknown app
// (both 404, alike), no token (401), the per-token throttle (429), and /openapi.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Validator } from '@seriousme/openapi-schema-validator';
import { addDomain as addDomainAsRecordedBefore } from '../../functions/application/apps.ts';
import { streamIds } from '../../functions/domain/events.ts';
import { LOCAL_DNS_TARGET_SUFFIX } from '../../infra/local/cloud.ts';
import { issue } from '../support/certificates.ts';
import { addDomain, api, useLocalCloud, waitForStatus } from '../support/local-cloud.ts';

const cloud = useLocalCloud();
const APP = 'routes';
const TARGET = `${APP}.${LOCAL_DNS_TARGET_SUFFIX}`;
const owner = () => cloud().tokens.forApps(APP);
const stranger = () => cloud().tokens.forApps('someone-else');

/**
 * Every way to ask about an app one may not see answers exactly like an app that does
 * not exist. (Adding a domain or enabling automation is how an app comes to exist here.)
 */
async function assertHidden(method: string, path: string, body?: unknown) {
  const foreign = await api(cloud(), method, path, body, stranger());
  assert.equal(foreign.status, 404, `${method} ${path} with another app's token`);
  assert.deepEqual(foreign.body, { error: { code: 'NOT_FOUND', message: `app ${APP} not found` } });
  if (method === 'POST') return;
  const unknownPath = path.replace(`/apps/${APP}`, '/apps/no-such-app');
  const unknown = await api(cloud(), method, unknownPath, body, cloud().tokens.forApps('no-such-app'));
  assert.deepEqual([unknown.status, unknown.body.error.code], [404, 'NOT_FOUND'], `${method} ${path} on an unknown app`);
}

async function eventCount(streamId: string): Promise<number> {
  return (await cloud().ports.events.read(streamId)).length;
}

test('domains: add, list, timeline, remove; bad input and conflicts change nothing', async () => {
  cloud().dns.zone.set('www.routes.test', 'CNAME', [TARGET]);
  const added = await api(cloud(), 'POST', `/apps/${APP}/domains`, { hostname: 'WWW.Routes.test' }, owner());
  assert.deepEqual([added.status, added.body], [201, { hostname: 'www.routes.test', dnsTarget: TARGET }]);
  await waitForStatus(cloud(), APP, 'www.routes.test', ['Cert Issued']);

  const listed = await api(cloud(), 'GET', `/apps/${APP}/domains`, undefined, owner());
  assert.deepEqual([listed.status, listed.body], [200, [{ hostname: 'www.routes.test', dnsTarget: TARGET }]]);
  const timeline = await api(cloud(), 'GET', `/apps/${APP}/domains/www.routes.test/events`, undefined, owner());
  assert.equal(timeline.status, 200);
  assert.equal(timeline.body.at(-1).type, 'CertificateInstalled');

  const appEvents = await eventCount(streamIds.app(APP));
  for (const [body, message] of [
    [{ hostname: '*.routes.test' }, 'hostname: wildcard domains are not supported'],
    [{ hostname: 'co.uk' }, 'hostname: co.uk is a public suffix: add a name you own under it, like example.co.uk'],
    [{ hostname: 42 }, 'hostname: Invalid input: expected string, received number'],
    [{}, 'hostname: is required'],
    ['not json', 'body: must be a JSON object'],
  ] as const) {
    const refused = await api(cloud(), 'POST', `/apps/${APP}/domains`, body === 'not json' ? undefined : body, owner());
    assert.deepEqual([refused.status, refused.body], [400, { error: { code: 'BAD_REQUEST', message } }], JSON.stringify(body));
  }
  assert.equal(await eventCount(streamIds.app(APP)), appEvents, 'bad input appended nothing');

  // A hostname belongs to one app at a time.
  const taken = await api(cloud(), 'POST', '/apps/other-app/domains', { hostname: 'www.routes.test' }, cloud().tokens.operator);
  assert.equal(taken.status, 409);
  assert.match(taken.body.error.message, /already a domain of another app/);
  assert.equal(await eventCount(streamIds.domain('other-app', 'www.routes.test')), 0);

  await assertHidden('GET', `/apps/${APP}/domains`);
  await assertHidden('POST', `/apps/${APP}/domains`, { hostname: 'x.routes.test' });
  await assertHidden('DELETE', `/apps/${APP}/domains/www.routes.test`);
  await assertHidden('GET', `/apps/${APP}/domains/www.routes.test/events`);

  // Removing stops the domain and takes its certificate away; the hostname is free again.
  const removed = await api(cloud(), 'DELETE', `/apps/${APP}/domains/www.routes.test`, undefined, owner());
  assert.equal(removed.status, 202);
  assert.equal(await cloud().certificates.findForHostname('www.routes.test'), undefined, 'the certificate is gone');
  assert.deepEqual((await api(cloud(), 'GET', `/apps/${APP}/domains`, undefined, owner())).body, []);
  assert.equal((await api(cloud(), 'DELETE', `/apps/${APP}/domains/www.routes.test`, undefined, owner())).status, 404);
  const reclaimed = await api(cloud(), 'POST', '/apps/other-app/domains', { hostname: 'www.routes.test' }, cloud().tokens.operator);
  assert.equal(reclaimed.status, 201);
});

test('an app has at most 100 domains: the 101st is 409', async () => {
  const app = 'crowded';
  // Automation off, so the domains start no workflows: this is about the app's limit only.
  assert.equal((await api(cloud(), 'POST', `/apps/${app}/acm`)).status, 202);
  assert.equal((await api(cloud(), 'DELETE', `/apps/${app}/acm`)).status, 202);
  for (let index = 0; index < 100; index++) {
    const added = await api(cloud(), 'POST', `/apps/${app}/domains`, { hostname: `d${index}.crowded.test` });
    assert.equal(added.status, 201, JSON.stringify(added.body));
  }
  const tooMany = await api(cloud(), 'POST', `/apps/${app}/domains`, { hostname: 'd100.crowded.test' });
  assert.deepEqual(
    [tooMany.status, tooMany.body.error.message],
    [409, 'hostname: an app has at most 100 custom domains; remove one first'],
  );
  assert.equal((await api(cloud(), 'GET', `/apps/${app}/domains`)).body.length, 100);
  assert.equal(await eventCount(streamIds.domain(app, 'd100.crowded.test')), 0);
});

test('a hostname with a path, query, fragment or percent-escape, or an IP address in any spelling, is refused: nothing appended', async () => {
  const app = 'pasted';
  for (const [hostname, wouldBe, rule] of [
    ['a.test/x', 'a.test', '"/" is not allowed: give the bare domain name, without a scheme, path, query or fragment'],
    ['b.test?x', 'b.test', '"?" is not allowed: give the bare domain name, without a scheme, path, query or fragment'],
    ['c.test#x', 'c.test', '"#" is not allowed: give the bare domain name, without a scheme, path, query or fragment'],
    ['%77ww.d.test', 'www.d.test', 'percent-encoded characters (%xx) are not allowed: give the domain name as it is written'],
    ['127.1', '127.0.0.1', 'must be a domain name, not an IP address'],
    ['0x7f.0.0.1', '127.0.0.1', 'must be a domain name, not an IP address'],
    ['127.0.0.1', '127.0.0.1', 'must be a domain name, not an IP address'],
  ] as const) {
    const refused = await api(cloud(), 'POST', `/apps/${app}/domains`, { hostname }, cloud().tokens.forApps(app));
    assert.deepEqual([refused.status, refused.body], [400, { error: { code: 'BAD_REQUEST', message: `hostname: ${rule}` } }], hostname);
    assert.equal(await eventCount(streamIds.domain(app, wouldBe)), 0, `${hostname} was not stored as ${wouldBe}`);
  }
  assert.equal(await eventCount(streamIds.app(app)), 0, 'the app was not even created');
});

test('a domain stored under an IP address before the rules tightened can still be read and removed', async () => {
  const app = 'legacy-ip';
  // As the old hostname check let through (127.1 was stored as 127.0.0.1): recorded without the API's check.
  await addDomainAsRecordedBefore(cloud().ports, { app, hostname: '127.0.0.1' }, 'test');
  const token = cloud().tokens.forApps(app);
  assert.equal((await api(cloud(), 'GET', `/apps/${app}/domains/127.0.0.1/events`, undefined, token)).status, 200);
  const removed = await api(cloud(), 'DELETE', `/apps/${app}/domains/127.0.0.1`, undefined, token);
  assert.deepEqual([removed.status, removed.body], [202, { app, hostname: '127.0.0.1', removed: true }]);
  // A name that is not one of the app's is still refused by the rule it breaks.
  const other = await api(cloud(), 'DELETE', `/apps/${app}/domains/10.0.0.1`, undefined, token);
  assert.deepEqual([other.status, other.body.error.message], [400, 'hostname: must be a domain name, not an IP address']);
});

test('a hostname in the path is normalised like one in a body: case, trailing dot, IDN', async () => {
  const app = 'paths';
  const token = cloud().tokens.forApps(app);
  for (const hostname of ['www.paths.test', 'bücher.paths.test']) {
    assert.equal((await api(cloud(), 'POST', `/apps/${app}/domains`, { hostname }, token)).status, 201, hostname);
  }
  for (const spelling of ['WWW.Paths.test', 'www.paths.test.', 'WWW.PATHS.TEST.']) {
    const timeline = await api(cloud(), 'GET', `/apps/${app}/domains/${encodeURIComponent(spelling)}/events`, undefined, token);
    assert.deepEqual([timeline.status, timeline.body[0]?.data.hostname], [200, 'www.paths.test'], spelling);
  }
  const idn = await api(cloud(), 'GET', `/apps/${app}/domains/${encodeURIComponent('Bücher.paths.test.')}/events`, undefined, token);
  assert.deepEqual([idn.status, idn.body[0]?.data.hostname], [200, 'xn--bcher-kva.paths.test']);
  const badPath = await api(cloud(), 'GET', `/apps/${app}/domains/${encodeURIComponent('a.test/x')}/events`, undefined, token);
  assert.deepEqual(
    [badPath.status, badPath.body.error.message],
    [400, 'hostname: "/" is not allowed: give the bare domain name, without a scheme, path, query or fragment'],
  );

  const removed = await api(cloud(), 'DELETE', `/apps/${app}/domains/WWW.Paths.test.`, undefined, token);
  assert.deepEqual([removed.status, removed.body], [202, { app, hostname: 'www.paths.test', removed: true }]);
  const removedIdn = await api(cloud(), 'DELETE', `/apps/${app}/domains/${encodeURIComponent('BÜCHER.paths.test')}`, undefined, token);
  assert.deepEqual([removedIdn.status, removedIdn.body.hostname], [202, 'xn--bcher-kva.paths.test']);
  assert.deepEqual((await api(cloud(), 'GET', `/apps/${app}/domains`, undefined, token)).body, []);
});

test('acm: status, disable removes managed certificates, enable issues them again, refresh', async () => {
  const app = 'switch';
  const token = cloud().tokens.forApps(app);
  cloud().dns.zone.set('www.switch.test', 'CNAME', [`${app}.${LOCAL_DNS_TARGET_SUFFIX}`]);
  await addDomain(cloud(), app, 'www.switch.test');
  await waitForStatus(cloud(), app, 'www.switch.test', ['Cert Issued']);
  const status = await api(cloud(), 'GET', `/apps/${app}/acm`, undefined, token);
  assert.equal(status.status, 200);
  assert.equal(status.body.enabled, true);
  assert.deepEqual(
    status.body.domains.map((domain: { hostname: string; status: string }) => [domain.hostname, domain.status]),
    [['www.switch.test', 'Cert Issued']],
  );

  const disabled = await api(cloud(), 'DELETE', `/apps/${app}/acm`, undefined, token);
  assert.deepEqual([disabled.status, disabled.body.app, disabled.body.enabled], [202, app, false]);
  assert.deepEqual(disabled.body.warnings, [
    'Turning automated certificates on again within 7 days orders a new certificate for www.switch.test: 4 of 5 are left this week for its exact names (one more every 33.6 hours).',
  ]);
  assert.equal(await cloud().certificates.findForHostname('www.switch.test'), undefined, 'managed certificate removed');
  assert.equal((await api(cloud(), 'GET', `/apps/${app}/certs`, undefined, token)).body.length, 0);
  // The status projection catches up: the domain waits for automation.
  await waitForStatus(cloud(), app, 'www.switch.test', ['Waiting']);

  const enabled = await api(cloud(), 'POST', `/apps/${app}/acm`, undefined, token);
  assert.deepEqual([enabled.status, enabled.body], [202, { app, enabled: true }]);
  const reissued = await waitForStatus(cloud(), app, 'www.switch.test', ['Cert Issued']);
  assert.ok(reissued.expiresAt);
  assert.ok(await cloud().certificates.findForHostname('www.switch.test'));

  const refreshed = await api(cloud(), 'POST', `/apps/${app}/acm/refresh`, undefined, token);
  assert.deepEqual([refreshed.status, refreshed.body.refreshed], [202, []]);

  for (const [method, path] of [
    ['GET', '/acm'],
    ['DELETE', '/acm'],
    ['POST', '/acm/refresh'],
  ]) {
    const foreign = await api(cloud(), method!, `/apps/${app}${path}`, undefined, stranger());
    assert.equal(foreign.status, 404, `${method} ${path}`);
  }
});

test('disabling while a domain is failing ends its attempt; enabling after the DNS is fixed issues it', async () => {
  const app = 'failing-off';
  const token = cloud().tokens.forApps(app);
  await addDomain(cloud(), app, 'www.failing-off.test');
  await waitForStatus(cloud(), app, 'www.failing-off.test', ['Failing']);
  assert.equal((await api(cloud(), 'DELETE', `/apps/${app}/acm`, undefined, token)).status, 202);
  const off = await waitForStatus(cloud(), app, 'www.failing-off.test', ['Waiting']);
  assert.match(off.message ?? '', /Automated certificates are off/);
  await cloud().workflows.executions.get(`${app}_www.failing-off.test_1`)!.done;
  assert.notEqual(cloud().workflows.executions.get(`${app}_www.failing-off.test_1`)!.status, 'RUNNING');
  // Refresh starts nothing while automation is off.
  assert.deepEqual((await api(cloud(), 'POST', `/apps/${app}/acm/refresh`, undefined, token)).body.refreshed, []);

  cloud().dns.zone.set('www.failing-off.test', 'CNAME', [`${app}.${LOCAL_DNS_TARGET_SUFFIX}`]);
  assert.equal((await api(cloud(), 'POST', `/apps/${app}/acm`, undefined, token)).status, 202);
  await waitForStatus(cloud(), app, 'www.failing-off.test', ['Cert Issued']);
  const types = (await api(cloud(), 'GET', `/apps/${app}/domains/www.failing-off.test/events`, undefined, token)).body.map(
    (event: { type: string }) => event.type,
  );
  assert.ok(types.includes('IssuanceCancelled'));
});

test('certs: upload turns automation off; list, info, replace, remove; keys never come back', async () => {
  const app = 'uploads';
  const token = cloud().tokens.forApps(app);
  const root = await issue({ subject: 'CN=Uploads Root', ca: true });
  const leaf = await issue({ subject: 'CN=shop.uploads.test', issuer: root, names: ['shop.uploads.test', '*.uploads.test'] });
  const chain = leaf.pem;

  const uploaded = await api(cloud(), 'POST', `/apps/${app}/certs`, { certificateChain: chain, privateKey: leaf.keyPem }, token);
  assert.equal(uploaded.status, 201, JSON.stringify(uploaded.body));
  assert.deepEqual(uploaded.body.commonNames, ['shop.uploads.test', '*.uploads.test']);
  assert.deepEqual([uploaded.body.managed, uploaded.body.trusted, uploaded.body.subject], [false, false, 'CN=shop.uploads.test']);
  const { name } = uploaded.body;
  await cloud().projectorCaughtUp();
  assert.equal((await api(cloud(), 'GET', `/apps/${app}/acm`, undefined, token)).body.enabled, false, 'uploading turned automation off');
  assert.ok(await cloud().certificates.findForHostname('www.uploads.test'), 'the wildcard serves');

  const listed = await api(cloud(), 'GET', `/apps/${app}/certs`, undefined, token);
  assert.deepEqual(listed.body, [uploaded.body]);
  assert.deepEqual((await api(cloud(), 'GET', `/apps/${app}/certs/${name}`, undefined, token)).body, uploaded.body);
  assert.equal((await api(cloud(), 'GET', `/apps/${app}/certs/nope`, undefined, token)).status, 404);

  const other = await issue({ subject: 'CN=shop.uploads.test', issuer: root, names: ['shop.uploads.test'] });
  const mismatch = await api(cloud(), 'PUT', `/apps/${app}/certs/${name}`, { certificateChain: other.pem, privateKey: leaf.keyPem }, token);
  assert.equal(mismatch.status, 400);
  assert.match(mismatch.body.error.message, /^privateKey: does not match the certificate/);
  const replaced = await api(
    cloud(),
    'PUT',
    `/apps/${app}/certs/${name}`,
    { certificateChain: other.pem, privateKey: other.keyPem },
    token,
  );
  assert.equal(replaced.status, 200);
  assert.deepEqual([replaced.body.name, replaced.body.commonNames], [name, ['shop.uploads.test']]);
  const withoutKey = await api(cloud(), 'PUT', `/apps/${app}/certs/${name}`, { certificateChain: other.pem }, token);
  assert.equal(withoutKey.status, 400);
  assert.match(withoutKey.body.error.message, /^privateKey: is required/);

  const appEvents = await eventCount(streamIds.app(app));
  for (const body of [
    { certificateChain: 'garbage', privateKey: leaf.keyPem },
    { certificateChain: chain, privateKey: 'garbage' },
    { certificateChain: chain },
  ]) {
    const refused = await api(cloud(), 'POST', `/apps/${app}/certs`, body, token);
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.match(refused.body.error.message, /^(certificateChain|privateKey): /);
  }
  assert.equal(await eventCount(streamIds.app(app)), appEvents, 'bad uploads appended nothing');

  await assertHiddenFor(app, 'GET', `/apps/${app}/certs`);
  await assertHiddenFor(app, 'GET', `/apps/${app}/certs/${name}`);
  await assertHiddenFor(app, 'DELETE', `/apps/${app}/certs/${name}`);

  const removed = await api(cloud(), 'DELETE', `/apps/${app}/certs/${name}`, undefined, token);
  assert.equal(removed.status, 202);
  assert.deepEqual((await api(cloud(), 'GET', `/apps/${app}/certs`, undefined, token)).body, []);
  assert.equal(await cloud().certificates.findForHostname('shop.uploads.test'), undefined);

  const everything = JSON.stringify([uploaded, listed, replaced, removed, await cloud().ports.events.read(streamIds.app(app))]);
  assert.doesNotMatch(everything, /PRIVATE KEY/);
});

async function assertHiddenFor(app: string, method: string, path: string) {
  const foreign = await api(cloud(), method, path, undefined, stranger());
  assert.deepEqual(
    [foreign.status, foreign.body],
    [404, { error: { code: 'NOT_FOUND', message: `app ${app} not found` } }],
    `${method} ${path}`,
  );
}

test('without a valid token: 401; the challenge route and the contract need none', async () => {
  for (const token of [null, 'not-a-token', `${cloud().tokens.operator}x`]) {
    const refused = await api(cloud(), 'GET', `/apps/${APP}/acm`, undefined, token);
    assert.deepEqual([refused.status, refused.body.error.code], [401, 'UNAUTHORIZED']);
  }
  assert.equal((await api(cloud(), 'GET', '/.well-known/acme-challenge/unknown-token', undefined, null)).status, 404);
  assert.equal((await api(cloud(), 'GET', '/openapi.json', undefined, null)).status, 200);
});

test('a token that calls too fast is throttled with 429, and other tokens are not', async () => {
  const hasty = cloud().tokens.forApps('hasty');
  const answers = await Promise.all(Array.from({ length: 150 }, () => api(cloud(), 'GET', '/apps/hasty/acm', undefined, hasty)));
  // Read from the burst itself: on a busy machine the bucket may refill before one more call.
  const throttled = answers.find((answer) => answer.status === 429);
  assert.ok(throttled, 'the burst was throttled');
  assert.deepEqual(throttled.body, { error: { code: 'THROTTLED', message: 'too many requests for this token; slow down' } });
  assert.notEqual((await api(cloud(), 'GET', `/apps/${APP}/domains`, undefined, owner())).status, 429);
});

test('/openapi.json is a valid OpenAPI 3.1 document covering every route', async () => {
  const { status, body } = await api(cloud(), 'GET', '/openapi.json', undefined, null);
  assert.equal(status, 200);
  const result = await new Validator().validate(body);
  assert.ok(result.valid, JSON.stringify(result.errors));
  assert.equal(body.openapi, '3.1.0');
  assert.deepEqual(Object.keys(body.paths['/apps/{app}/certs/{name}']).sort(), ['delete', 'get', 'put']);
  const upload = body.paths['/apps/{app}/certs'].post;
  assert.deepEqual(upload.requestBody.content['application/json'].schema.required, ['certificateChain', 'privateKey']);
  assert.deepEqual(upload.security, [{ bearer: [] }]);
});

test('a path segment that is not valid percent-encoding is a 400 naming it, not a server error', async () => {
  const app = await api(cloud(), 'GET', '/apps/%ZZ/acm');
  assert.deepEqual([app.status, app.body.error.message], [400, 'app: is not valid percent-encoding']);
  const database = await api(cloud(), 'GET', '/apps/demo/databases/%/enhanced-certificates');
  assert.deepEqual([database.status, database.body.error.message], [400, 'database: is not valid percent-encoding']);
});
