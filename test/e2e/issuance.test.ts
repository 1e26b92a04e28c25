// The happy path through the whole local cloud: a domain is added over the API, the
// synthesized state machine runs every step against Pebble, DNS and the router, and
// the certificate that comes out is checked as a TLS client would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { LOCAL_DNS_TARGET_SUFFIX } from '../../infra/local/cloud.ts';
import { api, HAPPY_PATH_EVENTS, useLocalCloud, waitForStatus } from '../support/local-cloud.ts';
import { servedByRouter } from '../support/router-tls.ts';

const cloud = useLocalCloud();
const APP = 'shop';
const HOSTNAME = 'www.shop-e2e.test';

test('a custom domain goes from added to "Cert Issued", and the certificate is served and verifiable', async () => {
  const dnsTarget = `${APP}.${LOCAL_DNS_TARGET_SUFFIX}`;
  cloud().dns.zone.set(HOSTNAME, 'CNAME', [dnsTarget]);

  const added = await api(cloud(), 'POST', `/apps/${APP}/domains`, { hostname: HOSTNAME });
  assert.equal(added.status, 201);
  assert.deepEqual(added.body, { hostname: HOSTNAME, dnsTarget });

  const status = await waitForStatus(cloud(), APP, HOSTNAME, ['Cert Issued', 'Failed', 'Failing']);
  assert.equal(status.status, 'Cert Issued', JSON.stringify(status));
  assert.ok(status.expiresAt && Date.parse(status.expiresAt) > Date.now(), 'expiresAt is in the future');

  // The certificate the router serves by SNI, fetched with verification on against Pebble's root.
  const root = await cloud().pebble.rootCertificatePem();
  const served = await servedByRouter(cloud().router.https.port, HOSTNAME, root);
  const leaf = new X509Certificate(served.raw);
  assert.equal(leaf.subjectAltName, `DNS:${HOSTNAME}`);
  assert.ok(leaf.checkHost(HOSTNAME));
  assert.equal(new Date(leaf.validTo).toISOString(), status.expiresAt);
  // It chains to Pebble's root: the issuer's issuer is that root.
  const intermediate = new X509Certificate(served.issuerCertificate.raw);
  assert.ok(leaf.verify(intermediate.publicKey), 'leaf is signed by the intermediate');
  assert.ok(intermediate.verify(new X509Certificate(root).publicKey), 'intermediate is signed by the root');

  // The timeline tells the story in order.
  const timeline = await api(cloud(), 'GET', `/apps/${APP}/domains/${HOSTNAME}/events`);
  assert.equal(timeline.status, 200);
  assert.deepEqual(
    timeline.body.map((event: { type: string }) => event.type),
    HAPPY_PATH_EVENTS,
  );
  assert.deepEqual(
    timeline.body.map((event: { version: number }) => event.version),
    HAPPY_PATH_EVENTS.map((_, index) => index + 1),
  );
  const dnsVerified = timeline.body[2].data;
  assert.deepEqual(dnsVerified.answers[0], { name: HOSTNAME, type: 'CNAME', data: dnsTarget });
  const issued = timeline.body[HAPPY_PATH_EVENTS.indexOf('CertificateIssued')].data;
  assert.equal(issued.serialNumber, leaf.serialNumber);
  assert.doesNotMatch(JSON.stringify(timeline.body), /PRIVATE KEY/);

  // The operator's view: one execution, named for the app, domain and attempt, succeeded.
  const execution = cloud().workflows.executions.get(`${APP}_${HOSTNAME}_1`);
  assert.equal(execution?.status, 'SUCCEEDED');
});
