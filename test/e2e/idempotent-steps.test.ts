// Lambda and Step Functions run a step at least once. Each step is run twice here,
// by hand, against the real local parts: no event twice, no second order, no
// second certificate installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Ports } from '../../functions/application/ports.ts';
import { execute } from '../../functions/application/streams.ts';
import { streamIds } from '../../functions/domain/events.ts';
import { LOCAL_DNS_TARGET_SUFFIX } from '../../infra/local/cloud.ts';
import { ISSUANCE_STEPS } from '../../infra/workflows/issuance.ts';
import { HAPPY_PATH_EVENTS, useLocalCloud } from '../support/local-cloud.ts';

const cloud = useLocalCloud();
const ref = { app: 'twice', hostname: 'www.twice.test' };
const input = { ...ref, attempt: 1 };

async function step(name: keyof typeof ISSUANCE_STEPS): Promise<unknown> {
  const { createHandler } = (await import(`../../${ISSUANCE_STEPS[name]}`)) as {
    createHandler: (ports: Ports) => (event: unknown, context: object) => Promise<unknown>;
  };
  return createHandler(cloud().ports)(input, {});
}

test('every step run twice appends once, orders once and installs once', async () => {
  const dnsTarget = `${ref.app}.${LOCAL_DNS_TARGET_SUFFIX}`;
  cloud().dns.zone.set(ref.hostname, 'CNAME', [dnsTarget]);
  const deps = cloud().ports;
  await execute(deps, ref, { type: 'AddDomain', ...ref, dnsTarget }, 'test');
  await execute(deps, ref, { type: 'RequestIssuance', trigger: 'domain-added' }, 'test');
  const eventTypes = async () => (await deps.events.read(streamIds.domain(ref.app, ref.hostname))).map((event) => event.type);

  const runTwice = async (name: keyof typeof ISSUANCE_STEPS) => {
    const first = await step(name);
    const countAfterFirst = (await eventTypes()).length;
    const second = await step(name);
    assert.equal((await eventTypes()).length, countAfterFirst, `${name} appended again when run twice`);
    return [first, second] as const;
  };

  await runTwice('CheckDns');
  const [firstOrder, secondOrder] = (await runTwice('CreateOrder')) as [{ orderUrl: string }, { orderUrl: string }];
  assert.equal(secondOrder.orderUrl, firstOrder.orderUrl, 'a second order was created');
  await runTwice('AskCaToValidate');
  let validation = (await step('CheckValidation')) as { status: string };
  for (let polls = 0; validation.status !== 'valid' && polls < 50; polls++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    validation = (await step('CheckValidation')) as { status: string };
  }
  assert.equal(validation.status, 'valid');
  await runTwice('CheckValidation');
  const [firstInstall, secondInstall] = (await runTwice('FinalizeAndInstall')) as [{ certificateArn: string }, { certificateArn: string }];
  assert.equal(secondInstall.certificateArn, firstInstall.certificateArn);
  const installedFolders = (await readdir(join(cloud().dataDir, 'certificates'), { withFileTypes: true })).filter((entry) =>
    entry.isDirectory(),
  );
  assert.equal(installedFolders.length, 1, 'one certificate installed');

  assert.deepEqual(await eventTypes(), HAPPY_PATH_EVENTS);
});
