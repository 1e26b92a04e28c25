// The deployed bundles run for real: the local cloud with every handler (each workflow
// step, each API resource group, the authorizer, the projector, the platform's events and
// the sweep) loaded from the asset `cdk synth` builds for Lambda, not from the TypeScript
// source, each in a sandbox of its own with the environment the stack gives it, talking to
// DynamoDB Local and to local Secrets Manager, ACM, Step Functions and EventBridge APIs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { API_HANDLERS, AUTHORIZER_HANDLER, PLATFORM_EVENTS_HANDLER, PROJECTOR_HANDLER, SWEEP_HANDLER } from '../../infra/api-routes.ts';
import { loadApiDispatcher, type ApiRequest } from '../../infra/local/api-server.ts';
import { bundledFunctions, synthesizeBundles } from '../../infra/local/bundles.ts';
import { LOCAL_DNS_TARGET_SUFFIX, loadSourceHandler, startLocalCloud, type LocalCloud } from '../../infra/local/cloud.ts';
import { ISSUANCE_STEPS } from '../../infra/workflows/issuance.ts';
import { api, HAPPY_PATH_EVENTS, waitForStatus } from '../support/local-cloud.ts';
import { servedByRouter } from '../support/router-tls.ts';

const APP = 'bundled';
const HOSTNAME = 'www.bundled-e2e.test';

const bundles = bundledFunctions();
let cloud: LocalCloud | undefined;
let dataDir = '';
before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'local-cloud-'));
  cloud = await startLocalCloud({ dataDir, handlerLoader: bundles.loader, sweepIntervalMs: 60 * 60_000 });
});
after(async () => {
  await cloud?.stop();
  await bundles.stop();
  await rm(dataDir, { recursive: true, force: true });
});
const local = () => {
  if (!cloud) throw new Error('the local cloud did not start');
  return cloud;
};

/** The certificate the router serves for `hostname`, verified against Pebble's root. */
async function servedCertificate(hostname: string): Promise<tls.DetailedPeerCertificate> {
  return servedByRouter(local().router.https.port, hostname, await local().pebble.rootCertificatePem());
}

test('every handler runs from the bundle cdk synth built for its Lambda', async (t) => {
  const { functions, synthMs } = await synthesizeBundles();
  const files = [...Object.values(ISSUANCE_STEPS), ...Object.values(API_HANDLERS)];
  files.push(AUTHORIZER_HANDLER, PROJECTOR_HANDLER, PLATFORM_EVENTS_HANDLER, SWEEP_HANDLER);
  for (const file of files) {
    const bundled = bundles.functions.get(file);
    assert.ok(bundled, `${file} is loaded from its bundle`);
    assert.match(bundled.spec.bundleFile, /\/\.cache\/bundles\/asset\.[0-9a-f]{64}\/index\.mjs$/);
  }
  assert.equal(functions.length, files.length, 'one Lambda per handler file');
  t.diagnostic(`cdk synth with bundling: ${(synthMs / 1000).toFixed(1)} s`);
  for (const fn of functions) t.diagnostic(`${fn.logicalId.padEnd(32)} ${(fn.bundleBytes / 1024).toFixed(0).padStart(5)} KiB  ${fn.entry}`);
});

test('a domain added over the bundled API reaches "Cert Issued" through the bundled steps, and its certificate is served', async () => {
  const dnsTarget = `${APP}.${LOCAL_DNS_TARGET_SUFFIX}`;
  local().dns.zone.set(HOSTNAME, 'CNAME', [dnsTarget]);
  const added = await api(local(), 'POST', `/apps/${APP}/domains`, { hostname: HOSTNAME });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  assert.deepEqual(added.body, { hostname: HOSTNAME, dnsTarget });

  const status = await waitForStatus(local(), APP, HOSTNAME, ['Cert Issued', 'Failed', 'Failing']);
  assert.equal(status.status, 'Cert Issued', JSON.stringify(status));

  const served = await servedCertificate(HOSTNAME);
  const leaf = new X509Certificate(served.raw);
  assert.equal(leaf.subjectAltName, `DNS:${HOSTNAME}`);
  assert.equal(new Date(leaf.validTo).toISOString(), status.expiresAt);

  const timeline = await api(local(), 'GET', `/apps/${APP}/domains/${HOSTNAME}/events`);
  assert.equal(timeline.status, 200);
  assert.deepEqual(
    timeline.body.map((event: { type: string }) => event.type),
    HAPPY_PATH_EVENTS,
  );
  const issued = timeline.body[HAPPY_PATH_EVENTS.indexOf('CertificateIssued')].data;
  assert.equal(issued.serialNumber, leaf.serialNumber);
  assert.doesNotMatch(JSON.stringify(timeline.body), /PRIVATE KEY/);
  assert.equal(local().workflows.executions.get(`${APP}_${HOSTNAME}_1`)?.status, 'SUCCEEDED');

  // Each step of the happy path ran in its Lambda's sandbox.
  for (const step of ['CheckDns', 'CreateOrder', 'AskCaToValidate', 'FinalizeAndInstall'] as const) {
    assert.ok(bundles.functions.get(ISSUANCE_STEPS[step])!.invocations > 0, `${step} ran from its bundle`);
  }
  // What they asked of AWS went to the local APIs: the account key was made and stored in
  // Secrets Manager (not the local cloud's key file), the executions were started through
  // Step Functions' API, and the certificate went into ACM with its tags.
  const aws = bundles.awsApis();
  for (const call of [
    'secretsmanager.GetSecretValue',
    'secretsmanager.PutSecretValue',
    'AWSStepFunctions.StartExecution',
    'CertificateManager.ImportCertificate',
  ]) {
    assert.ok(aws.calls.includes(call), `${call} was called (calls: ${[...new Set(aws.calls)].join(', ')})`);
  }
  assert.match(aws.secretValue(aws.secretArns.AcmeAccountKey!) ?? '', /-----BEGIN (EC )?PRIVATE KEY-----/);
  assert.equal(existsSync(join(local().dataDir, 'acme-account-key.pem')), false, 'the source adapters never ran');
  const installed = timeline.body.find((event: { type: string }) => event.type === 'CertificateInstalled').data;
  assert.equal((await local().certificates.findForHostname(HOSTNAME))?.certificateArn, installed.certificateArn);
});

test('the bundled API answers as the source handlers do: list, status, bad input, not found, no token', async () => {
  // The same routes through the TypeScript source, with the local cloud's own ports.
  const fromSource = await loadApiDispatcher((file) => loadSourceHandler(file, local().ports));
  const operator = { authorization: `Bearer ${local().tokens.operator}`, 'content-type': 'application/json' };
  const requests: Array<ApiRequest & { expect: number }> = [
    { method: 'GET', path: `/apps/${APP}/domains`, headers: operator, expect: 200 },
    { method: 'GET', path: `/apps/${APP}/acm`, headers: operator, expect: 200 },
    { method: 'POST', path: `/apps/${APP}/domains`, headers: operator, body: JSON.stringify({ hostname: 'not a hostname' }), expect: 400 },
    { method: 'POST', path: `/apps/${APP}/domains`, headers: operator, body: '{not json', expect: 400 },
    { method: 'GET', path: `/apps/${APP}/domains/absent.bundled-e2e.test/events`, headers: operator, expect: 404 },
    { method: 'GET', path: `/apps/${APP}/acm`, headers: {}, expect: 401 },
    {
      method: 'GET',
      path: `/apps/${APP}/acm`,
      headers: { authorization: `Bearer ${local().tokens.forApps('someone-else')}` },
      expect: 404,
    },
  ];
  for (const { expect, ...request } of requests) {
    const [bundled, source] = await Promise.all([local().dispatch(request), fromSource(request)]);
    const what = `${request.method} ${request.path}`;
    assert.equal(bundled.statusCode, expect, `${what}: ${bundled.body}`);
    assert.equal(bundled.statusCode, source.statusCode, what);
    assert.deepEqual(JSON.parse(bundled.body), JSON.parse(source.body), what);
  }
  // And over HTTP, as a client sees it.
  const listed = await api(local(), 'GET', `/apps/${APP}/domains`);
  assert.equal(listed.status, 200);
  assert.ok(JSON.stringify(listed.body).includes(HOSTNAME));
  const bad = await api(local(), 'POST', `/apps/${APP}/domains`, { hostname: '' });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'BAD_REQUEST');
});

test("the bundled sweep runs, and the platform's DomainRemoved, through its bundle, deletes the certificate from ACM", async () => {
  const swept = await local().sweep();
  assert.equal(typeof swept, 'object');
  assert.ok(bundles.functions.get(SWEEP_HANDLER)!.invocations >= 1);

  const outcome = await local().firePlatformEvent('DomainRemoved', { eventId: 'bundled-removed-1', app: APP, hostname: HOSTNAME });
  assert.deepEqual(outcome, { handled: 'DomainRemoved' });
  assert.ok(bundles.awsApis().calls.includes('CertificateManager.DeleteCertificate'));
  assert.equal(await local().certificates.findForHostname(HOSTNAME), undefined);
  await assert.rejects(servedCertificate(HOSTNAME));

  // The projector (the stream's consumer, from its bundle) takes the domain out of the status.
  const deadline = Date.now() + 10_000;
  let listed: { body: any } = { body: undefined };
  while (Date.now() < deadline) {
    listed = await api(local(), 'GET', `/apps/${APP}/acm`);
    if (!JSON.stringify(listed.body).includes(HOSTNAME)) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.ok(!JSON.stringify(listed.body).includes(HOSTNAME), JSON.stringify(listed.body));
  assert.ok(bundles.functions.get(PROJECTOR_HANDLER)!.invocations > 0);
});
