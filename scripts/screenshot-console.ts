// The README's picture of the console (docs/console.png), taken from a real run: a fresh
// local cloud, app `demo` with two domains issued, one whose DNS points elsewhere (Failing)
// and a database with its enhanced certificate; then headless Chromium opens the console on
// the failing domain: its timeline, and its execution waiting to retry.
//   npx tsx scripts/screenshot-console.ts [out.png]
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { executionName } from '../functions/domain/issuance.ts';
import { launchHeadlessChromium } from '../infra/local/chromium.ts';
import { LOCAL_DNS_TARGET_SUFFIX, startLocalCloud } from '../infra/local/cloud.ts';
import { addDomain, api, waitForStatus } from '../test/support/local-cloud.ts';

const APP = 'demo';
const ISSUED = ['www.demo.test', 'shop.demo.test'];
const FAILING = 'blog.demo.test';
const DATABASE = 'main';
const OUT = resolve(process.argv[2] ?? 'docs/console.png');

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'console-screenshot-'));
  // The failing domain stays Failing, waiting for its first retry, while the picture is taken.
  const cloud = await startLocalCloud({ dataDir, fresh: true, settings: { retryPolicy: { firstRetryDelayMs: 600_000 } } });
  try {
    for (const hostname of ISSUED) cloud.dns.zone.set(hostname, 'CNAME', [`${APP}.${LOCAL_DNS_TARGET_SUFFIX}`]);
    cloud.dns.zone.set(FAILING, 'A', ['192.0.2.10']);
    for (const hostname of [...ISSUED, FAILING]) await addDomain(cloud, APP, hostname);
    await cloud.addDatabase(APP, DATABASE);
    const enabled = await api(cloud, 'POST', `/apps/${APP}/databases/${DATABASE}/enhanced-certificates`);
    if (enabled.status !== 202) throw new Error(`enabling the database's certificate answered ${enabled.status}`);
    for (const hostname of ISSUED) await waitForStatus(cloud, APP, hostname, ['Cert Issued']);
    await waitForStatus(cloud, APP, FAILING, ['Failing']);
    await waitForDatabase(cloud);

    const browser = await launchHeadlessChromium();
    try {
      const page = await browser.newPage();
      const execution = executionName({ app: APP, hostname: FAILING, attempt: 1 });
      await page.goto(`${cloud.console.url}/#token=${cloud.tokens.operator}&domain=${APP}/${FAILING}&execution=${execution}`);
      await page.waitForSelector('svg.graph g.node.current[data-state="WaitBeforeRetry"]');
      await page.waitForSelector('table.timeline tr[data-event="IssuanceFailed"]');
      await page.waitForSelector('table.databases .status[data-status="Cert Issued"]');
      await mkdir(dirname(OUT), { recursive: true });
      await page.screenshot({ path: OUT as `${string}.png` });
      console.log(`Saved ${OUT}`);
    } finally {
      await browser.close();
    }
  } finally {
    await cloud.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function waitForDatabase(cloud: Awaited<ReturnType<typeof startLocalCloud>>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { body } = await api(cloud, 'GET', `/apps/${APP}/databases/${DATABASE}/enhanced-certificates`);
    if (body?.status === 'Cert Issued') return;
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`database ${DATABASE}'s certificate was not issued within 60 s`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
