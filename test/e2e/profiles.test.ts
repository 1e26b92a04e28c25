// ACME profiles (Let's Encrypt's classic, tlsserver, shortlived): the configured one goes
// out in every newOrder when the directory lists it; one it does not list stops the start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_DNS_TARGET_SUFFIX, startLocalCloud } from '../../infra/local/cloud.ts';
import { addDomain, useLocalCloud, waitForStatus } from '../support/local-cloud.ts';

const cloud = useLocalCloud({ acmeProfile: 'tlsserver' });

test('orders name the configured profile, and are issued', async () => {
  cloud().dns.zone.set('www.profiled.test', 'CNAME', [`profiled.${LOCAL_DNS_TARGET_SUFFIX}`]);
  await addDomain(cloud(), 'profiled', 'www.profiled.test');
  await waitForStatus(cloud(), 'profiled', 'www.profiled.test', ['Cert Issued']);
  const orders = cloud().acmeFaults.log.filter((entry) => entry.operation === 'newOrder' && entry.hostname === 'www.profiled.test');
  assert.deepEqual(
    orders.map((entry) => [entry.status, entry.profile]),
    [[201, 'tlsserver']],
  );
});

test('a profile the CA does not offer is a clear error at start, naming what it offers', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'local-cloud-'));
  try {
    await assert.rejects(startLocalCloud({ dataDir, acmeProfile: 'longlived' }), {
      name: 'ProfileNotOfferedError',
      message: /^ACME_PROFILE=longlived is not a profile this CA offers \(classic, tlsserver, shortlived\)/,
    });
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
