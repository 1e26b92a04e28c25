// The console page in a real browser: headless Chromium (Debian's package) driven by
// puppeteer-core, on the local cloud. The page stays open while domains are added over the
// API: what it shows must follow, without a reload.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { executionName } from '../../functions/domain/issuance.ts';
import { launchHeadlessChromium } from '../../infra/local/chromium.ts';
import { LOCAL_DNS_TARGET_SUFFIX } from '../../infra/local/cloud.ts';
import type { ExecutionDetail } from '../../infra/local/console/types.ts';
import { issue } from '../support/certificates.ts';
import { addDomain, api, eventually, timeline, useLocalCloud, waitForStatus } from '../support/local-cloud.ts';

// A failure waits ten minutes for its retry: the Failing domain stays Failing while it is looked at.
const cloud = useLocalCloud({ settings: { retryPolicy: { firstRetryDelayMs: 600_000, failingWindowMs: 3_600_000 } } });
const APP = 'console';
const ISSUED = 'www.console-live.test';
const ELSEWHERE = 'www.console-elsewhere.test';
const PAGE_TIMEOUT_MS = 30_000;
const DAY = 24 * 60 * 60_000;

let browser: Promise<Browser> | undefined;
let opened: Promise<Page> | undefined;
const pageErrors: string[] = [];

// While the local cloud starts (node 20 runs a file's before hooks side by side).
before(() => {
  browser = launchHeadlessChromium();
});
after(async () => {
  await (await browser)?.close();
});

/** One page for the whole file, opened at the first test on the address `npm start` prints. */
function consolePage(): Promise<Page> {
  opened ??= (async () => {
    const page = await (await browser!).newPage();
    page.setDefaultTimeout(PAGE_TIMEOUT_MS);
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    page.on('console', (message) => void (message.type() === 'error' && pageErrors.push(message.text())));
    await page.goto(`${cloud().console.url}/#token=${cloud().tokens.operator}`);
    await page.waitForSelector('#refreshed:not(:empty)');
    return page;
  })();
  return opened;
}

/** A domain's rows: name, status, reason and last update, then its message. */
const row = (hostname: string) => `#apps tbody[data-hostname="${hostname}"]`;

/** Until the element `selector` finds reads `text` (the page checks, in its own DOM). */
async function waitForText(selector: string, text: string): Promise<void> {
  const page = await consolePage();
  await page.waitForFunction(`document.querySelector(${JSON.stringify(selector)})?.textContent === ${JSON.stringify(text)}`);
}

async function consoleJson(path: string, token: string | null = cloud().tokens.operator): Promise<{ status: number; body: any }> {
  const response = await fetch(`${cloud().console.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: response.status, body: await response.json() };
}

test('the page opens with the token out of the address bar, and a domain added meanwhile goes to "Cert Issued" on it', async () => {
  const page = await consolePage();
  assert.equal(new URL(page.url()).hash, '', 'the token is taken out of the address');
  assert.equal(await page.$(row(ISSUED)), null);
  // Set on this very document: still there at the end means no reload happened.
  await page.evaluate('window.openedOnce = true');

  cloud().dns.zone.set(ISSUED, 'CNAME', [`${APP}.${LOCAL_DNS_TARGET_SUFFIX}`]);
  await addDomain(cloud(), APP, ISSUED);
  await waitForText(`${row(ISSUED)} .status`, 'Cert Issued');

  const status = await waitForStatus(cloud(), APP, ISSUED, ['Cert Issued']);
  const shown = await page.$eval(row(ISSUED), (tr) => ({
    updated: tr.querySelector('.updated time')?.getAttribute('datetime'),
    updatedText: tr.querySelector('.updated')?.textContent,
    expires: tr.querySelector('.expires time')?.getAttribute('datetime'),
  }));
  assert.equal(shown.updated, status.lastUpdated);
  assert.match(shown.updatedText ?? '', / ago$/, 'last updated reads as a relative time');
  assert.equal(shown.expires, status.expiresAt);
  assert.equal(await page.evaluate('window.openedOnce'), true, 'the page was not reloaded');
});

test('a domain whose DNS points elsewhere shows "Failing" with its reason and message, its timeline the DNS answers, its execution the failure in red', async () => {
  cloud().dns.zone.set(ELSEWHERE, 'A', ['192.0.2.10']);
  await addDomain(cloud(), APP, ELSEWHERE);
  const status = await waitForStatus(cloud(), APP, ELSEWHERE, ['Failing', 'Failed', 'Cert Issued']);
  assert.equal(status.status, 'Failing', JSON.stringify(status));
  assert.equal(status.reason, 'DNS_INCORRECT');

  await waitForText(`${row(ELSEWHERE)} .status`, 'Failing');
  const page = await consolePage();
  const shown = await page.$eval(row(ELSEWHERE), (tr) => ({
    reason: tr.querySelector('.reason')?.textContent,
    message: tr.querySelector('.message')?.textContent,
  }));
  assert.deepEqual(shown, { reason: 'DNS_INCORRECT', message: status.message });
  assert.match(shown.message ?? '', /points at 192\.0\.2\.10/);

  // Picking the domain opens its timeline, with the answers the DNS check kept, and its execution.
  await page.click(row(ELSEWHERE));
  const checked = '#timeline tr[data-event="DnsCheckFailed"]';
  await page.waitForSelector(`${checked} .answers li`);
  const answers = await page.$$eval(`${checked} .answers li`, (items) => items.map((item) => item.textContent));
  const failedCheck = (await timeline(cloud(), APP, ELSEWHERE)).find((event) => event.type === 'DnsCheckFailed')!;
  assert.deepEqual(
    answers,
    failedCheck.data.answers.map((answer: { name: string; type: string; data: string }) => `${answer.name} ${answer.type} ${answer.data}`),
  );
  assert.ok(answers.includes(`${ELSEWHERE} A 192.0.2.10`), answers.join(', '));

  const name = executionName({ app: APP, hostname: ELSEWHERE, attempt: 1 });
  await waitForText('#execution .subject', name);
  await page.waitForSelector('svg.graph g.current');
  // CheckDns failed into its Catch (red); the execution now waits for its retry.
  const graph = await page.$$eval('svg.graph g.node', (nodes) =>
    Object.fromEntries(nodes.map((node) => [node.getAttribute('data-state'), node.getAttribute('class')])),
  );
  assert.match(graph.CheckDns ?? '', /\bcaught\b/);
  assert.match(graph.WaitBeforeRetry ?? '', /\bcurrent\b/);
  const colour = await page.evaluate(`getComputedStyle(document.querySelector('svg.graph g.node[data-state="CheckDns"] rect')).stroke`);
  assert.equal(colour, 'rgb(217, 21, 21)', 'a failed state is drawn red');
  assert.match(await page.$eval('#execution .summary', (summary) => summary.textContent ?? ''), /RUNNING in WaitBeforeRetry/);
});

test("an execution shows its path in order, the state it ended in, and each state's input and output, with no private key", async () => {
  const name = executionName({ app: APP, hostname: ISSUED, attempt: 1 });
  await cloud().workflows.executions.get(name)?.done;
  const page = await consolePage();
  await page.click(`#executions tr[data-execution="${name}"]`);
  await waitForText('#execution .subject', name);
  await waitForText('#execution .summary .status', 'SUCCEEDED');

  const { status, body } = await consoleJson(`/executions/${name}`);
  assert.equal(status, 200);
  const detail = body as ExecutionDetail;
  // The runner's own event log, which the page's steps are read from.
  const entered = (cloud().workflows.executions.get(name)!.history as Array<{ type: string; state?: { name: string } }>)
    .filter((event) => event.type === 'StateEntered')
    .map((event) => event.state!.name);
  assert.deepEqual(entered.slice(0, 3), ['StartLater?', 'CheckDns', 'CreateOrder']);
  assert.equal(entered.at(-1), 'Issued');

  // The path, row by row, is the history's; the graph highlights those states and no other.
  const path = await page.$$eval('table.path tr[data-step] .state-name', (cells) => cells.map((cell) => cell.textContent));
  assert.deepEqual(path, entered);
  const highlighted = await page.$$eval('svg.graph g.node.visited', (nodes) => nodes.map((node) => node.getAttribute('data-state')));
  assert.deepEqual(new Set(highlighted), new Set(entered));
  assert.deepEqual(
    await page.$$eval('svg.graph g.node.succeeded', (nodes) => nodes.length),
    new Set(entered).size,
    'every state went well',
  );
  assert.equal(await page.$eval('svg.graph g.node.last', (node) => node.getAttribute('data-state')), 'Issued');
  assert.equal(await page.$eval('#execution .current-state', (cell) => cell.textContent), 'Issued');

  // A state picked in the graph shows the input it was given and the output it gave.
  for (const state of ['CheckDns', 'FinalizeAndInstall']) {
    await page.click(`svg.graph g.node[data-state="${state}"]`);
    await page.waitForSelector(`#execution .io[data-state="${state}"]`);
    const io = await page.$eval('#execution .io', (panel) => ({
      input: panel.querySelector('pre.input')?.textContent ?? '',
      output: panel.querySelector('pre.output')?.textContent ?? '',
    }));
    const step = detail.steps.findLast((visit) => visit.name === state)!;
    assert.deepEqual(JSON.parse(io.input), step.input);
    assert.deepEqual(JSON.parse(io.output), step.output);
  }

  assert.doesNotMatch(await page.content(), /PRIVATE KEY/);
  assert.doesNotMatch(JSON.stringify(body), /PRIVATE KEY|privateKey/i);
});

test('the rate-limit ledger and the notices sent: an uploaded certificate near expiry is told to its owners', async () => {
  const page = await consolePage();
  // The first order took a token from the account's bucket.
  const ledger = await api(cloud(), 'GET', '/ca/limits');
  const account = ledger.body.buckets.find((bucket: { limit: string }) => bucket.limit === 'newOrdersPerAccount');
  assert.ok(account, JSON.stringify(ledger.body));
  await page.waitForSelector('#limits tr[data-bucket="newOrdersPerAccount"]');
  const bucket = await page.$eval('#limits tr[data-bucket="newOrdersPerAccount"]', (tr) => tr.textContent ?? '');
  assert.ok(bucket.includes(account.key) && bucket.includes(`/${account.capacity}`), bucket);

  const root = await issue({ subject: 'CN=Console Root', ca: true });
  const leaf = await issue({
    subject: 'CN=www.console-upload.test',
    issuer: root,
    names: ['www.console-upload.test'],
    notAfter: new Date(Date.now() + 20 * DAY),
  });
  const uploaded = await api(cloud(), 'POST', '/apps/console-uploads/certs', { certificateChain: leaf.pem, privateKey: leaf.keyPem });
  assert.equal(uploaded.status, 201, JSON.stringify(uploaded.body));
  // The sweep finds what is due in the status projection: once the upload is in it.
  await eventually(
    'the app listed',
    async () => (await api(cloud(), 'GET', '/apps')).body.some((app: { app: string }) => app.app === 'console-uploads') || undefined,
  );
  await cloud().sweep();
  await page.waitForSelector('#notices tr[data-notice]');
  const notice = await page.$eval('#notices tr[data-notice]', (tr) => [...tr.querySelectorAll('td')].map((cell) => cell.textContent));
  assert.deepEqual(notice.slice(1), ['console-uploads', uploaded.body.name, 'CertificateExpiring · 19 days left · expires in 20 days']);
  assert.match(notice[0] ?? '', / ago$/);
  // The key went in with the upload; it comes out nowhere.
  assert.doesNotMatch(await page.content(), /PRIVATE KEY/);

  // The whole page as the tests left it, to look at.
  const file = join(await mkdtemp(join(tmpdir(), 'console-test-')), 'console.png');
  await page.screenshot({ path: file, fullPage: true });
  console.log(`console screenshot: ${file}`);
  assert.deepEqual(pageErrors, [], 'the page raised no error and no request failed');
});

test('the execution history needs an operator token, and the console only reads', async () => {
  assert.equal((await consoleJson('/executions', null)).status, 401);
  assert.equal((await consoleJson('/executions', cloud().tokens.forApps(APP))).status, 401);
  const listed = await consoleJson('/executions');
  assert.equal(listed.status, 200);
  assert.ok(
    listed.body.some((execution: { name: string }) => execution.name === executionName({ app: APP, hostname: ISSUED, attempt: 1 })),
  );
  // The API behind /api answers with the caller's token, as it would anyone.
  const proxied = await fetch(`${cloud().console.url}/api/apps/${APP}/acm`, {
    headers: { authorization: `Bearer ${cloud().tokens.forApps('other')}` },
  });
  assert.equal(proxied.status, 404);
  const written = await fetch(`${cloud().console.url}/api/apps/${APP}/domains`, {
    method: 'POST',
    headers: { authorization: `Bearer ${cloud().tokens.operator}`, 'content-type': 'application/json' },
    body: JSON.stringify({ hostname: 'www.console-written.test' }),
  });
  assert.equal(written.status, 405);
});
