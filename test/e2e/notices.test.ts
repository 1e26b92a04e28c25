// Notices to owners of uploaded certificates, which nobody renews for them: told at 30, 7
// and 1 days left, once each, as EventBridge events (the local bus) recorded in the app's
// log; operators list every app with what its owners were told.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SentNotification } from '../../functions/adapters/notifications/local-notifications.ts';
import { issue } from '../support/certificates.ts';
import { api, useLocalCloud } from '../support/local-cloud.ts';

const cloud = useLocalCloud();
const DAY = 24 * 60 * 60_000;

/** Polls `GET /apps` (operator) until `accept` holds for the app's row. */
async function appRow(app: string, accept: (row: { notices: Array<Record<string, unknown>> }) => boolean) {
  const deadline = Date.now() + 10_000;
  let last;
  while (Date.now() < deadline) {
    const { status, body } = await api(cloud(), 'GET', '/apps');
    assert.equal(status, 200);
    last = (body as Array<{ app: string; notices: Array<Record<string, unknown>> }>).find((row) => row.app === app);
    if (last && accept(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${app}: GET /apps never showed what was awaited; last ${JSON.stringify(last)}`);
}

const expiringIn = async (days: number) => {
  const root = await issue({ subject: 'CN=Notices Root', ca: true });
  return issue({
    subject: 'CN=shop.notices.test',
    issuer: root,
    names: ['shop.notices.test'],
    notAfter: new Date(Date.now() + days * DAY),
  });
};

test('an uploaded certificate near expiry: its owners are told at 30 days, once, then again at 7 after a replacement', async () => {
  const app = 'notices';
  const sent = () =>
    cloud().notifications.sent.filter(
      (notice): notice is Extract<SentNotification, { detailType: 'CertificateExpiring' }> =>
        notice.detailType === 'CertificateExpiring' && notice.app === app,
    );
  const leaf = await expiringIn(20);
  const uploaded = await api(cloud(), 'POST', `/apps/${app}/certs`, { certificateChain: leaf.pem, privateKey: leaf.keyPem });
  assert.equal(uploaded.status, 201, JSON.stringify(uploaded.body));
  const name = uploaded.body.name as string;
  await appRow(app, () => true);

  await cloud().sweep();
  await cloud().sweep();
  assert.equal(sent().length, 1, 'told once, however many sweeps');
  const [notice] = sent();
  assert.ok(notice);
  assert.deepEqual(
    [notice.managed, notice.certificateName, notice.threshold, notice.daysLeft, notice.expiresAt],
    [false, name, 30, 19, uploaded.body.expiresAt],
  );
  const row = await appRow(app, (candidate) => candidate.notices.length > 0);
  assert.deepEqual(
    row.notices.map(({ type, notificationId, certificateName }) => ({ type, notificationId, certificateName })),
    [{ type: 'CertificateExpiring', notificationId: notice.notificationId, certificateName: name }],
  );

  // A replacement expiring in 3 days starts afresh: the 7-day notice goes (the 30-day one is behind it).
  const sooner = await expiringIn(3);
  const replaced = await api(cloud(), 'PUT', `/apps/${app}/certs/${name}`, { certificateChain: sooner.pem, privateKey: sooner.keyPem });
  assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
  await appRow(app, () => true);
  const projected = Date.now() + 5000;
  while (sent().length < 2 && Date.now() < projected) {
    await cloud().sweep();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.deepEqual(
    sent().map(({ threshold, daysLeft }) => [threshold, daysLeft]),
    [
      [30, 19],
      [7, 2],
    ],
  );
});

test('a certificate far from expiry is told nothing, and only operators list the apps', async () => {
  const app = 'notices-far';
  const leaf = await expiringIn(60);
  assert.equal((await api(cloud(), 'POST', `/apps/${app}/certs`, { certificateChain: leaf.pem, privateKey: leaf.keyPem })).status, 201);
  await appRow(app, () => true);
  await cloud().sweep();
  assert.deepEqual(
    cloud().notifications.sent.filter((notice) => notice.app === app),
    [],
  );
  const forbidden = await api(cloud(), 'GET', '/apps', undefined, cloud().tokens.forApps(app));
  assert.equal(forbidden.status, 403);
  assert.match(forbidden.body.error.message, /operator token/);
});
