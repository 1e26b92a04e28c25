// A certificate a TLS terminator still uses cannot be deleted (ACM's ResourceInUseException):
// the removal is recorded as still to do, with the reason, and the sweep retries it until it goes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LOCAL_DNS_TARGET_SUFFIX } from '../../infra/local/cloud.ts';
import { addDomain, api, timeline, useLocalCloud, waitForStatus } from '../support/local-cloud.ts';

const RETRY_MS = 300;
const cloud = useLocalCloud({ sweepIntervalMs: 60 * 60_000, settings: { retryPolicy: { firstRetryDelayMs: RETRY_MS } } });
const APP = 'inuse';
const HOSTNAME = 'www.inuse.test';
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('removing a domain whose certificate is in use records why and keeps its ARN; the sweep deletes it once it is free', async () => {
  cloud().dns.zone.set(HOSTNAME, 'CNAME', [`${APP}.${LOCAL_DNS_TARGET_SUFFIX}`]);
  await addDomain(cloud(), APP, HOSTNAME);
  await waitForStatus(cloud(), APP, HOSTNAME, ['Cert Issued']);
  const certificateArn = (await timeline(cloud(), APP, HOSTNAME)).find((event) => event.type === 'CertificateInstalled')!.data
    .certificateArn;
  cloud().certificates.inUse.add(certificateArn);

  assert.equal((await api(cloud(), 'DELETE', `/apps/${APP}/domains/${HOSTNAME}`)).status, 202);
  const [deferred, removed] = (await timeline(cloud(), APP, HOSTNAME)).slice(-2);
  assert.deepEqual([deferred!.type, removed!.type], ['CertificateRemovalDeferred', 'DomainRemoved']);
  assert.equal(deferred!.data.certificateArn, certificateArn);
  assert.equal(deferred!.data.because, 'domain-removed');
  assert.match(deferred!.data.reason, /is still in use \(a load balancer of this machine holds it\)/);
  assert.ok(await cloud().certificates.findForHostname(HOSTNAME), 'still installed: nothing was lost');
  // The status is a projection of the log: it shows the removal once the projector has applied it.
  await cloud().projectorCaughtUp();
  const { body } = await api(cloud(), 'GET', `/apps/${APP}/acm`);
  assert.deepEqual(body.domains, [], 'the app no longer lists the domain');

  // Still in use at the retry: deferred again, with a later time.
  await pause(RETRY_MS + 50);
  await cloud().sweep();
  const again = (await timeline(cloud(), APP, HOSTNAME)).at(-1)!;
  assert.equal(again.type, 'CertificateRemovalDeferred');
  assert.ok(Date.parse(again.data.retryAt) > Date.parse(deferred!.data.retryAt));

  // Free now: the next retry deletes it.
  cloud().certificates.inUse.delete(certificateArn);
  await pause(RETRY_MS + 50);
  await cloud().sweep();
  const done = (await timeline(cloud(), APP, HOSTNAME)).at(-1)!;
  assert.deepEqual([done.type, done.data.certificateArn], ['DeferredCertificateRemoved', certificateArn]);
  assert.equal(await cloud().certificates.findForHostname(HOSTNAME), undefined, 'deleted');
  await cloud().sweep();
  assert.equal((await timeline(cloud(), APP, HOSTNAME)).at(-1)!.type, 'DeferredCertificateRemoved', 'nothing more to do');
});
