// The platform's events (EventBridge in AWS, the same handler here): a DomainAdded
// leads to "Cert Issued"; delivered twice, or shuffled, the events end in the same
// state as in-order delivery; a removal that arrives before its add leaves nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { streamIds } from '../../functions/domain/events.ts';
import { LOCAL_DNS_TARGET_SUFFIX, LOCAL_PLATFORM_EVENTS_PATH } from '../../infra/local/cloud.ts';
import { api, timeline, useLocalCloud, waitForStatus } from '../support/local-cloud.ts';

const cloud = useLocalCloud();
const second = (offset: number) => new Date(Date.parse('2026-11-22T10:00:00.000Z') + offset * 1000).toISOString();

interface PlatformEvent {
  detailType: 'DomainAdded' | 'DomainRemoved' | 'AppDeleted';
  detail: Record<string, unknown>;
}

const fire = ({ detailType, detail }: PlatformEvent) => cloud().firePlatformEvent(detailType, detail);

/** What a delivery order leaves behind: the app's domains, each domain's status, the installed certificates. */
async function outcome(app: string, hostnames: string[]) {
  const domains = (await api(cloud(), 'GET', `/apps/${app}/domains`)).body;
  const certificates = await Promise.all(hostnames.map(async (hostname) => Boolean(await cloud().certificates.findForHostname(hostname))));
  return { domains, certificates };
}

async function settle(app: string, hostnames: string[]) {
  for (const hostname of hostnames) {
    const events = await cloud().ports.events.read(streamIds.domain(app, hostname));
    if (events.at(-1)?.type !== 'DomainRemoved' && events.length > 0)
      await waitForStatus(cloud(), app, hostname, ['Cert Issued', 'Failed']);
  }
}

test('a DomainAdded event leads to "Cert Issued"; the same event again changes nothing', async () => {
  cloud().dns.zone.set('www.fired.test', 'CNAME', [`fired.${LOCAL_DNS_TARGET_SUFFIX}`]);
  const added: PlatformEvent = { detailType: 'DomainAdded', detail: { eventId: 'evt-added-1', app: 'fired', hostname: 'www.fired.test' } };
  await fire(added);
  await waitForStatus(cloud(), 'fired', 'www.fired.test', ['Cert Issued']);
  const before = await timeline(cloud(), 'fired', 'www.fired.test');
  await fire(added);
  await fire(added);
  assert.deepEqual(await timeline(cloud(), 'fired', 'www.fired.test'), before);
  assert.equal(cloud().workflows.executions.has('fired_www.fired.test_2'), false);
  assert.equal((await cloud().ports.events.read(streamIds.receipt('evt-added-1'))).length, 1);
});

test('the local endpoint takes an event by hand, as a user would fire one', async () => {
  cloud().dns.zone.set('api.by-hand.test', 'CNAME', [`by-hand.${LOCAL_DNS_TARGET_SUFFIX}`]);
  const response = await fetch(`${cloud().apiUrl}${LOCAL_PLATFORM_EVENTS_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ 'detail-type': 'DomainAdded', detail: { eventId: 'evt-hand-1', app: 'by-hand', hostname: 'api.by-hand.test' } }),
  });
  assert.equal(response.status, 202);
  await waitForStatus(cloud(), 'by-hand', 'api.by-hand.test', ['Cert Issued']);
});

test('duplicated and shuffled deliveries end in the same state as in-order delivery', async () => {
  const history = (app: string): PlatformEvent[] => [
    { detailType: 'DomainAdded', detail: { eventId: `${app}-1`, app, hostname: `a.${app}.test`, occurredAt: second(1) } },
    { detailType: 'DomainAdded', detail: { eventId: `${app}-2`, app, hostname: `b.${app}.test`, occurredAt: second(2) } },
    { detailType: 'DomainRemoved', detail: { eventId: `${app}-3`, app, hostname: `a.${app}.test`, occurredAt: second(3) } },
  ];
  const deliveries: Record<string, (events: PlatformEvent[]) => PlatformEvent[]> = {
    inorder: (events) => events,
    twice: (events) => [...events, ...events],
    shuffled: ([added, other, removed]) => [removed!, other!, added!, removed!, added!],
  };
  const outcomes: Record<string, unknown> = {};
  for (const [app, deliver] of Object.entries(deliveries)) {
    for (const host of ['a', 'b']) cloud().dns.zone.set(`${host}.${app}.test`, 'CNAME', [`${app}.${LOCAL_DNS_TARGET_SUFFIX}`]);
    for (const event of deliver(history(app))) await fire(event);
    await settle(app, [`a.${app}.test`, `b.${app}.test`]);
    outcomes[app] = await outcome(app, [`a.${app}.test`, `b.${app}.test`]);
  }
  const renamed = (app: string) => JSON.parse(JSON.stringify(outcomes[app]).replaceAll(app, 'APP'));
  assert.deepEqual(renamed('inorder'), {
    domains: [{ hostname: 'b.APP.test', dnsTarget: `APP.${LOCAL_DNS_TARGET_SUFFIX}` }],
    certificates: [false, true],
  });
  assert.deepEqual(renamed('twice'), renamed('inorder'));
  assert.deepEqual(renamed('shuffled'), renamed('inorder'));
  // The removal that came first left a tombstone; the late add found it and did nothing.
  const shuffledA = (await cloud().ports.events.read(streamIds.domain('shuffled', 'a.shuffled.test'))).map((event) => event.type);
  assert.deepEqual(shuffledA, ['DomainRemoved']);
});

test('a removal delivered again after the domain was added back, or older than the add, leaves the new one alone', async () => {
  const app = 'comeback';
  cloud().dns.zone.set(`www.${app}.test`, 'CNAME', [`${app}.${LOCAL_DNS_TARGET_SUFFIX}`]);
  const event = (eventId: string, detailType: PlatformEvent['detailType'], at: number): PlatformEvent => ({
    detailType,
    detail: { eventId, app, hostname: `www.${app}.test`, occurredAt: second(at) },
  });
  await fire(event('cb-1', 'DomainAdded', 1));
  await fire(event('cb-2', 'DomainRemoved', 2));
  await fire(event('cb-3', 'DomainAdded', 4));
  await waitForStatus(cloud(), app, `www.${app}.test`, ['Cert Issued']);
  const installed = await cloud().certificates.findForHostname(`www.${app}.test`);
  assert.ok(installed);
  await fire(event('cb-2', 'DomainRemoved', 2)); // redelivered
  await fire(event('cb-late', 'DomainRemoved', 3)); // a removal older than the latest add
  assert.equal((await cloud().certificates.findForHostname(`www.${app}.test`))?.certificateArn, installed.certificateArn);
  assert.equal((await waitForStatus(cloud(), app, `www.${app}.test`, ['Cert Issued'])).status, 'Cert Issued');
});

test('AppDeleted removes every domain and certificate of the app, once', async () => {
  cloud().dns.zone.set('www.doomed.test', 'CNAME', [`doomed.${LOCAL_DNS_TARGET_SUFFIX}`]);
  await fire({ detailType: 'DomainAdded', detail: { eventId: 'doomed-1', app: 'doomed', hostname: 'www.doomed.test' } });
  await waitForStatus(cloud(), 'doomed', 'www.doomed.test', ['Cert Issued']);
  const deleted: PlatformEvent = { detailType: 'AppDeleted', detail: { eventId: 'doomed-2', app: 'doomed' } };
  await fire(deleted);
  await fire(deleted);
  assert.equal(await cloud().certificates.findForHostname('www.doomed.test'), undefined);
  assert.equal((await api(cloud(), 'GET', '/apps/doomed/domains')).status, 404);
  const appTypes = (await cloud().ports.events.read(streamIds.app('doomed'))).map((event) => event.type);
  assert.deepEqual(appTypes.slice(-2), ['DomainDetached', 'AppDeleted']);
  // A late DomainAdded for the deleted app is dropped: it does not come back.
  const late = await fire({ detailType: 'DomainAdded', detail: { eventId: 'doomed-3', app: 'doomed', hostname: 'api.doomed.test' } });
  assert.deepEqual(late, { dropped: 'the app was deleted' });
});

test('an event that cannot be good is dropped, not retried: a bad hostname, a hostname on another app', async () => {
  assert.deepEqual(await fire({ detailType: 'DomainAdded', detail: { eventId: 'bad-1', app: 'x', hostname: '*.wild.test' } }), {
    dropped: 'hostname: wildcard domains are not supported',
  });
  assert.deepEqual(await fire({ detailType: 'DomainAdded', detail: { eventId: 'bad-2', app: 'x' } }), {
    dropped: 'hostname: "" is not a valid domain name',
  });
  const stolen = (await fire({ detailType: 'DomainAdded', detail: { eventId: 'bad-3', app: 'thief', hostname: 'www.fired.test' } })) as {
    dropped: string;
  };
  assert.match(stolen.dropped, /already a domain of another app/);
  assert.equal((await cloud().ports.events.read(streamIds.receipt('bad-3'))).length, 0);
});
