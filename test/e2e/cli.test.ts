// The acm CLI, run as people run it (`node bin/acm.mjs ...`) against the whole local
// cloud: tables and --json, --wait until settled, certificates up and down, and the
// exit codes scripts rely on.
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { dnsChallengeName } from '../../functions/adapters/dns/dns-challenge-zone.ts';
import { LOCAL_DNS_TARGET_SUFFIX } from '../../infra/local/cloud.ts';
import { freePort } from '../../infra/local/ports.ts';
import { EXIT, exitCodeForHttpStatus } from '../../cli/exit-codes.ts';
import { acmStatusView, relativeTime, table } from '../../cli/format.ts';
import { runAcm, type CliRun as Run } from '../support/acm-cli.ts';
import { issue } from '../support/certificates.ts';
import { api, HAPPY_PATH_EVENTS, useLocalCloud } from '../support/local-cloud.ts';
import { clusterConnection, openSession, psqlAt } from '../support/postgres-clients.ts';

const cloud = useLocalCloud();
const APP = 'cli';
const TARGET = `${APP}.${LOCAL_DNS_TARGET_SUFFIX}`;
const everything: string[] = []; // all the CLI printed, searched for keys at the end

/** `acm ARGS` with the operator's token, for app `cli` unless the env says otherwise. */
async function acm(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const run = await runAcm(args, { ACM_API_URL: cloud().apiUrl, ACM_TOKEN: cloud().tokens.operator, ACM_APP: APP, ...env });
  everything.push(run.stdout, run.stderr);
  return run;
}

const pointAtApp = (hostname: string) => cloud().dns.zone.set(hostname, 'CNAME', [TARGET]);
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The last table `certs:auto --wait` printed (on a non-TTY it prints each change once). */
const lastView = (stdout: string) => stdout.slice(stdout.lastIndexOf('=== '));

test('domains:add, then certs:auto --wait until Cert Issued', async () => {
  pointAtApp('www.cli.test');
  const added = await acm(['domains:add', 'www.cli.test']);
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /^Added www\.cli\.test to cli\./);
  assert.match(added.stdout, new RegExp(`Point its DNS at ${escape(TARGET)}`));

  const waited = await acm(['certs:auto', '--wait', '--timeout', '60']);
  assert.equal(waited.code, 0, waited.stderr);
  const view = lastView(waited.stdout);
  assert.match(view, /^=== Automated certificate management is enabled on cli\n\nDomain\s+Status\s+Last Updated\s+Reason\n─/);
  assert.match(view, /\nwww\.cli\.test\s+Cert Issued\s+less than a minute\n/, 'Last Updated is relative, as the platform shows it');
  assert.equal(waited.stderr, '');

  const shown = await acm(['certs:auto']);
  assert.equal(shown.code, 0, shown.stderr);
  assert.equal(shown.stdout, view, 'once settled, certs:auto shows what --wait ended with');
});

test('--json prints the API answer, parseable, on add and on certs:auto --wait', async () => {
  pointAtApp('json.cli.test');
  const added = await acm(['domains:add', 'json.cli.test', '--json']);
  assert.equal(added.code, 0, added.stderr);
  assert.deepEqual(JSON.parse(added.stdout), { hostname: 'json.cli.test', dnsTarget: TARGET });

  const waited = await acm(['certs:auto', '--wait', '--json', '--timeout', '60']);
  assert.equal(waited.code, 0, waited.stderr);
  const status = JSON.parse(waited.stdout);
  assert.deepEqual([status.app, status.enabled], [APP, true]);
  const domain = status.domains.find((d: { hostname: string }) => d.hostname === 'json.cli.test');
  assert.deepEqual([domain.status, domain.dnsTarget], ['Cert Issued', TARGET]);
  assert.deepEqual(status, (await api(cloud(), 'GET', `/apps/${APP}/acm`)).body, 'the API answer, as is');
});

test('domains and domains:events: tables and --json', async () => {
  pointAtApp('events.cli.test');
  assert.equal((await acm(['domains:add', 'events.cli.test'])).code, 0);
  assert.equal((await acm(['certs:auto', '--wait', '--timeout', '60'])).code, 0);

  const domains = await acm(['domains']);
  assert.equal(domains.code, 0, domains.stderr);
  assert.match(domains.stdout, /^=== cli custom domains\n\nDomain Name\s+DNS Target\n─/);
  assert.match(domains.stdout, new RegExp(`\\nevents\\.cli\\.test\\s+${escape(TARGET)}\\n`));
  const listed = JSON.parse((await acm(['domains', '--json'])).stdout) as Array<{ hostname: string; dnsTarget: string }>;
  assert.deepEqual(listed, (await api(cloud(), 'GET', `/apps/${APP}/domains`)).body);
  assert.ok(
    listed.some((d) => d.hostname === 'events.cli.test' && d.dnsTarget === TARGET),
    JSON.stringify(listed),
  );

  const events = await acm(['domains:events', 'events.cli.test']);
  assert.equal(events.code, 0, events.stderr);
  assert.match(events.stdout, /^=== events\.cli\.test timeline\n\n#\s+At\s+Event\s+Detail\n/);
  const types = [...events.stdout.matchAll(/^\d+\s+\S+\s+(\w+)/gm)].map((match) => match[1]);
  assert.deepEqual(types, HAPPY_PATH_EVENTS);
  assert.match(events.stdout, new RegExp(`DomainAdded\\s+DNS target ${escape(TARGET)}`));
  assert.match(events.stdout, /IssuanceRequested\s+attempt 1 \(domain-added\)/);
  assert.match(events.stdout, new RegExp(`DnsVerified\\s+events\\.cli\\.test CNAME ${escape(TARGET)}`));

  const json = await acm(['domains:events', 'events.cli.test', '--json']);
  assert.deepEqual(
    (JSON.parse(json.stdout) as Array<{ type: string }>).map((event) => event.type),
    HAPPY_PATH_EVENTS,
  );
});

test('--wait ends with exit 1 when a domain Failed, or when it times out; refresh restarts Failed ones', async () => {
  const long = `${'a'.repeat(52)}.long.cli.test`; // 66 characters: CN_TOO_LONG, Failed at once
  assert.equal((await acm(['domains:add', long], { ACM_APP: 'cli-failed' })).code, 0);
  const failed = await acm(['certs:auto', '--wait', '--timeout', '60'], { ACM_APP: 'cli-failed' });
  assert.equal(failed.code, EXIT.failure);
  assert.match(lastView(failed.stdout), new RegExp(`\\n${long}\\s+Failed\\s+less than a minute\\s+CN_TOO_LONG\\n`));
  assert.match(lastView(failed.stdout), new RegExp(`\\n${long}: ${long} is 66 characters long; a certificate's name can have at most 64`));
  assert.equal(failed.stderr, `acm: certificates Failed for ${long} (Failed: CN_TOO_LONG)\n`);

  const refreshed = await acm(['certs:auto:refresh'], { ACM_APP: 'cli-failed' });
  assert.equal(refreshed.code, 0, refreshed.stderr);
  assert.equal(refreshed.stdout, `Refreshing 1 domain of cli-failed:\n  ${long}\n`);

  // NXDOMAIN is retried, so the domain stays unsettled well past a one-second wait.
  assert.equal((await acm(['domains:add', 'www.nowhere.test'], { ACM_APP: 'cli-slow' })).code, 0);
  const slow = await acm(['certs:auto', '--wait', '--timeout', '1'], { ACM_APP: 'cli-slow' });
  assert.equal(slow.code, EXIT.failure);
  assert.match(slow.stderr, /^acm: timed out after 1 s; not settled: www\.nowhere\.test \((Waiting|In Progress|Failing: NXDOMAIN)\)\n$/);
});

test('certs: add, list, info, update, remove; automation off and on again; no key printed', async () => {
  const app = 'cli-certs';
  const dir = await mkdtemp(join(tmpdir(), 'acm-cli-'));
  after(() => rm(dir, { recursive: true, force: true }));
  const root = await issue({ subject: 'CN=CLI Root', ca: true });
  const first = await issue({ subject: 'CN=shop.cli-certs.test', issuer: root, names: ['shop.cli-certs.test'] });
  const second = await issue({ subject: 'CN=shop.cli-certs.test', issuer: root, names: ['shop.cli-certs.test', 'www.cli-certs.test'] });
  const file = async (name: string, pem: string) => {
    await writeFile(join(dir, name), pem, { mode: 0o600 });
    return join(dir, name);
  };
  const [chain1, key1, chain2, key2] = [
    await file('1.pem', first.pem),
    await file('1.key', first.keyPem),
    await file('2.pem', second.pem),
    await file('2.key', second.keyPem),
  ];
  const env = { ACM_APP: app, ACM_TOKEN: cloud().tokens.forApps(app) };

  const added = await acm(['certs:add', chain1, key1], env);
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /^Added a certificate to cli-certs; automated certificate management is now off\.\n\n=== Certificate (\S+)\n/);
  const name = /=== Certificate (\S+)/.exec(added.stdout)![1]!;
  assert.match(added.stdout, /Common Name\(s\):\s+shop\.cli-certs\.test\n/);
  assert.match(added.stdout, /Trusted:\s+False\nType:\s+Uploaded$/m);
  assert.match((await acm(['certs:auto'], env)).stdout, /is disabled on cli-certs/);

  const listed = await acm(['certs'], env);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /Name\s+Common Name\(s\)\s+Expires\s+Trusted\s+Type\n/);
  assert.match(listed.stdout, new RegExp(`\\n${escape(name)}\\s+shop\\.cli-certs\\.test\\s+\\S+\\s+False\\s+Uploaded\\n`));
  const info = await acm(['certs:info', name, '--json'], env);
  assert.equal(JSON.parse(info.stdout).name, name);
  assert.deepEqual(JSON.parse((await acm(['certs', '--json'], env)).stdout), [JSON.parse(info.stdout)]);

  const mismatched = await acm(['certs:update', name, chain2, key1], env);
  assert.equal(mismatched.code, EXIT.badInput);
  assert.match(mismatched.stderr, /^acm: privateKey: does not match the certificate.*\n$/);
  const updated = await acm(['certs:update', name, chain2, key2, '--json'], env);
  assert.equal(updated.code, 0, updated.stderr);
  assert.deepEqual(JSON.parse(updated.stdout).commonNames, ['shop.cli-certs.test', 'www.cli-certs.test']);

  const missing = await acm(['certs:add', chain1, join(dir, 'nope.key')], env);
  assert.deepEqual(missing, { code: EXIT.badInput, stdout: '', stderr: `acm: cannot read ${join(dir, 'nope.key')}: ENOENT\n` });
  const unknown = await acm(['certs:info', 'nope'], env);
  assert.equal(unknown.code, EXIT.notFound);

  const removed = await acm(['certs:remove', name], env);
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(removed.stdout, `Removed certificate ${name} from cli-certs; automated certificate management is now off.\n`);
  assert.equal((await acm(['certs'], env)).stdout, 'cli-certs has no certificates.\n');

  const enabled = await acm(['certs:auto:enable', '--json'], env);
  assert.equal(enabled.code, 0, enabled.stderr);
  assert.deepEqual(JSON.parse(enabled.stdout), { app, enabled: true });
  assert.match((await acm(['certs:auto'], env)).stdout, /is enabled on cli-certs/);
  const disabled = await acm(['certs:auto:disable'], env);
  assert.equal(disabled.code, 0, disabled.stderr);
  assert.match(disabled.stdout, /^Disabled automated certificate management on cli-certs/);

  for (const keyPem of [first.keyPem, second.keyPem]) {
    const body = keyPem.split('\n').find((line) => line.length > 40)!;
    assert.ok(!everything.some((printed) => printed.includes(body)), 'a private key was printed');
  }
  assert.ok(!everything.some((printed) => /PRIVATE KEY/.test(printed)));
});

test('domains:remove takes a domain off the app', async () => {
  pointAtApp('gone.cli.test');
  assert.equal((await acm(['domains:add', 'gone.cli.test'])).code, 0);
  const removed = await acm(['domains:remove', 'gone.cli.test']);
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(removed.stdout, 'Removed gone.cli.test from cli.\n');
  const listed = JSON.parse((await acm(['domains', '--json'])).stdout) as Array<{ hostname: string }>;
  assert.ok(!listed.some((d) => d.hostname === 'gone.cli.test'));
});

/** `data:enhanced-certificates:status DATABASE --json` until `done`, through the CLI. */
async function databaseStatusUntil(database: string, env: Record<string, string>, done: (status: any) => boolean): Promise<any> {
  const deadline = Date.now() + 60_000;
  let last: any;
  while (Date.now() < deadline) {
    const run = await acm(['data:enhanced-certificates:status', database, '--json'], env);
    assert.equal(run.code, 0, run.stderr);
    last = JSON.parse(run.stdout);
    if (done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${database}: not reached in 60 s; last status ${JSON.stringify(last)}`);
}

/** The value after `Label:` in a key-value view. */
const field = (stdout: string, label: string) => new RegExp(`^${escape(label)}:\\s+(.+)$`, 'm').exec(stdout)?.[1];

test('data: databases listed; enhanced certificates enabled, followed, trusted, rotated and disabled', async () => {
  const app = 'cli-db';
  const env = { ACM_APP: app };
  const cluster = await cloud().addDatabase(app, 'orders');
  const path = (rest = '') => `/apps/${app}/databases/orders/enhanced-certificates${rest}`;

  const listed = await acm(['data:databases'], env);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /^=== cli-db databases\n\nDatabase\s+Hostname\s+Port\n─/);
  assert.match(listed.stdout, new RegExp(`\\norders\\s+${escape(cluster.hostname)}\\s+${cluster.port}\\n`));
  const listedJson = await acm(['data:databases', '--json'], env);
  assert.deepEqual(JSON.parse(listedJson.stdout), (await api(cloud(), 'GET', `/apps/${app}/databases`)).body);

  const enabled = await acm(['data:enhanced-certificates:enable', 'orders'], env);
  assert.equal(enabled.code, 0, enabled.stderr);
  const afterEnable = (await api(cloud(), 'GET', path())).body;
  assert.match(
    enabled.stdout,
    /^Enabled enhanced certificates for database orders on cli-db: (Waiting|In Progress|DNS Verified|Cert Issued)\./,
  );
  assert.equal(field(enabled.stdout, 'Connection URL'), afterEnable.connectionUrl);
  assert.match(afterEnable.connectionUrl, /sslmode=verify-full/);
  assert.equal(field(enabled.stdout, 'Previous URL'), afterEnable.previousConnectionUrl);
  assert.match(enabled.stdout, /the previous URL \(sslmode=require\) stays valid/);

  const issued = await databaseStatusUntil('orders', env, (status) => status.status === 'Cert Issued');
  assert.equal(typeof issued.connectionUrl, 'string');
  assert.equal(issued.connectionUrl, afterEnable.connectionUrl);
  assert.equal(issued.availableRoots.length, 2, JSON.stringify(issued));
  const session = await openSession(clusterConnection(cluster, cloud().pebbleRootFile));
  let shown: Run;
  try {
    shown = await acm(['data:enhanced-certificates:status', 'orders'], env);
  } finally {
    await session.close();
  }
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /^=== Enhanced certificates for database orders on cli-db\n/);
  assert.equal(field(shown.stdout, 'Status'), 'Cert Issued');
  assert.equal(field(shown.stdout, 'Expires At'), issued.expiresAt);
  assert.equal(field(shown.stdout, 'Served Root'), issued.servedRoot);
  assert.equal(field(shown.stdout, 'Available Roots'), issued.availableRoots.join(', '));
  const url = field(shown.stdout, 'Connection URL')!;
  assert.equal(url, issued.connectionUrl);
  assert.match(url, /^postgresql:\/\/orders\.cli-db\.db\.localcloud\.test:\d+\/orders\?sslmode=verify-full&sslrootcert=/);
  // The URL the CLI prints is the one that connects, with verify-full.
  const byUrl = await psqlAt(`${url}&user=${cluster.user}`, cluster.password, 'SELECT 2');
  assert.equal(byUrl.stdout, '2', byUrl.stderr);
  assert.match(shown.stdout, /\nDatabase\s+User\s+Client\s+Version\s+Cipher\n─/);
  assert.match(shown.stdout, new RegExp(`\\n${cluster.database}\\s+${cluster.user}\\s+127\\.0\\.0\\.1\\s+TLSv1\\.[23]\\s+\\S+`));

  const bundle = await acm(['data:enhanced-certificates:trust-bundle', 'orders'], env);
  assert.equal(bundle.code, 0, bundle.stderr);
  assert.equal(bundle.stdout, (await api(cloud(), 'GET', path('/trust-bundle'))).body);
  const pems = bundle.stdout.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/g) ?? [];
  assert.equal(pems.length, 2, bundle.stdout);
  assert.deepEqual(pems.join(''), bundle.stdout, 'nothing but the PEM on stdout');
  const subjects = pems.map((pem) => new X509Certificate(pem).subject);
  for (const root of issued.availableRoots)
    assert.ok(
      subjects.some((subject) => subject.includes(root)),
      `${root} in ${subjects}`,
    );
  assert.equal((await acm(['data:enhanced-certificates:trust-bundle', 'orders', '--json'], env)).stdout, bundle.stdout);

  const newRoot = issued.availableRoots.find((root: string) => root !== issued.servedRoot) as string;
  const rotated = await acm(['data:enhanced-certificates:rotate', 'orders', newRoot], env);
  assert.equal(rotated.code, 0, rotated.stderr);
  assert.match(rotated.stdout, new RegExp(`^Database orders on cli-db now serves its certificate's chain to ${escape(newRoot)}\\.\\n`));
  assert.match(rotated.stdout, /Before rotating, every client must trust the trust bundle/);
  assert.match(rotated.stdout, /acm data:enhanced-certificates:trust-bundle orders --app cli-db > trust-bundle\.pem/);
  assert.equal(field((await acm(['data:enhanced-certificates:status', 'orders'], env)).stdout, 'Served Root'), newRoot);
  const rotatedJson = JSON.parse((await acm(['data:enhanced-certificates:rotate', 'orders', newRoot, '--json'], env)).stdout);
  assert.deepEqual([rotatedJson.servedRoot, typeof rotatedJson.guidance], [newRoot, 'string']);

  const badRoot = await acm(['data:enhanced-certificates:rotate', 'orders', 'Nobody Root'], env);
  const badRootApi = await api(cloud(), 'POST', path('/rotate'), { root: 'Nobody Root' });
  assert.equal(badRootApi.status, 400);
  assert.deepEqual(badRoot, { code: EXIT.badInput, stdout: '', stderr: `acm: ${badRootApi.body.error.message}\n` });

  const disabled = await acm(['data:enhanced-certificates:disable', 'orders'], env);
  assert.equal(disabled.code, 0, disabled.stderr);
  assert.match(disabled.stdout, /^Disabled enhanced certificates for database orders on cli-db/);
  assert.match(disabled.stdout, /\nWARNING: Clients connecting with sslmode=verify-full must move to sslmode=require first/);
  const disabledJson = JSON.parse((await acm(['data:enhanced-certificates:disable', 'orders', '--json'], env)).stdout);
  assert.deepEqual([disabledJson.database, disabledJson.enabled], ['orders', false]);
  assert.ok(disabled.stdout.includes(disabledJson.warning), 'the API warning, word for word');
  const off = await acm(['data:enhanced-certificates:status', 'orders'], env);
  assert.equal(field(off.stdout, 'Status'), 'Disabled');
  assert.equal(field(off.stdout, 'Connection URL'), issued.previousConnectionUrl);
});

test('data:enhanced-certificates:status of a Failing database: the reason and the message to act on', async () => {
  const env = { ACM_APP: 'cli-db' };
  const cluster = await cloud().addDatabase('cli-db', 'search');
  cloud().dns.zone.fail(dnsChallengeName(cluster.hostname), 'servfail', 'TXT');
  assert.equal((await acm(['data:enhanced-certificates:enable', 'search'], env)).code, 0);
  const failing = await databaseStatusUntil('search', env, (status) => status.status === 'Failing');
  const shown = await acm(['data:enhanced-certificates:status', 'search'], env);
  assert.equal(shown.code, 0, shown.stderr);
  assert.equal(field(shown.stdout, 'Status'), 'Failing');
  assert.equal(field(shown.stdout, 'Reason'), 'DNS_CHALLENGE_NOT_VISIBLE');
  assert.ok(shown.stdout.includes(`\n${failing.message}\n`), shown.stdout);
  assert.equal((await acm(['data:enhanced-certificates:disable', 'search'], env)).code, 0);
});

test('data: a missing DATABASE is a usage error; an unknown database is the API 404, message as is', async () => {
  const env = { ACM_APP: 'cli-db' };
  for (const command of ['enable', 'disable', 'status', 'trust-bundle', 'rotate']) {
    const name = `data:enhanced-certificates:${command}`;
    const run = await acm([name], env);
    assert.equal(run.code, EXIT.usage, `${name}: ${run.stderr}`);
    assert.match(run.stderr, new RegExp(`^acm: ${name}: missing DATABASE( ROOT)?\\. See: acm help\\n$`));
    assert.equal(run.stdout, '');
  }
  const noRoot = await acm(['data:enhanced-certificates:rotate', 'orders'], env);
  assert.deepEqual([noRoot.code, noRoot.stderr], [EXIT.usage, 'acm: data:enhanced-certificates:rotate: missing ROOT. See: acm help\n']);

  await cloud().addDatabase('cli-db', 'known');
  const path = (rest = '') => `/apps/cli-db/databases/nope/enhanced-certificates${rest}`;
  const cases: Array<[string[], string, string, unknown?]> = [
    [['data:enhanced-certificates:status', 'nope'], 'GET', path()],
    [['data:enhanced-certificates:enable', 'nope'], 'POST', path()],
    [['data:enhanced-certificates:trust-bundle', 'nope'], 'GET', path('/trust-bundle')],
    [['data:enhanced-certificates:rotate', 'nope', 'Some Root'], 'POST', path('/rotate'), { root: 'Some Root' }],
  ];
  for (const [args, method, apiPath, body] of cases) {
    const answer = await api(cloud(), method, apiPath, body);
    assert.equal(answer.status, 404, JSON.stringify(answer.body));
    assert.match(answer.body.error.message, /nope is not a database of cli-db/);
    assert.deepEqual(await acm(args, env), { code: EXIT.notFound, stdout: '', stderr: `acm: ${answer.body.error.message}\n` });
  }
  const noApp = await api(cloud(), 'GET', '/apps/cli-no-such-app/databases');
  assert.equal(noApp.status, 404);
  assert.deepEqual(await acm(['data:databases'], { ACM_APP: 'cli-no-such-app' }), {
    code: EXIT.notFound,
    stdout: '',
    stderr: `acm: ${noApp.body.error.message}\n`,
  });
});

test('usage errors exit 2 and print nothing on stdout; help documents the exit codes', async () => {
  const cases: Array<[string[], RegExp, Record<string, string>?]> = [
    [['frobnicate'], /^acm: unknown command "frobnicate"\. See: acm help\n$/],
    [['domains:add'], /^acm: domains:add: missing HOSTNAME\. See: acm help\n$/],
    [['certs:add', 'chain.pem'], /^acm: certs:add: missing KEY_FILE/],
    [['domains', 'extra'], /^acm: domains: unexpected argument "extra"/],
    [['domains', '--frob'], /^acm: Unknown option '--frob'\. See: acm help\n$/],
    [['domains', '--wait'], /^acm: domains has no --wait flag/],
    [['certs:auto', '--wait', '--timeout', 'soon'], /^acm: --timeout: must be a number of seconds/],
    [['domains'], /^acm: no app: pass --app APP or set ACM_APP/, { ACM_APP: '' }],
    [['domains', '--api-url', 'not a url'], /^acm: --api-url: "not a url" is not a URL/],
    [[], /^acm: automated HTTPS certificates/],
  ];
  for (const [args, stderr, env] of cases) {
    const run = await acm(args, env);
    assert.equal(run.code, EXIT.usage, `acm ${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, stderr);
    assert.equal(run.stdout, '');
  }
  const help = await acm(['help']);
  assert.equal(help.code, 0);
  for (const code of [0, 1, 2, 3, 4, 5, 6, 7]) assert.match(help.stdout, new RegExp(`^  ${code}  \\S`, 'm'));
  assert.match(help.stdout, /^  certs:update NAME CHAIN_FILE \[KEY_FILE\]\s+\S/m);
  assert.match(help.stdout, /^  data:databases\s+\S/m);
  for (const command of ['enable', 'disable', 'status', 'trust-bundle']) {
    assert.match(help.stdout, new RegExp(`^  data:enhanced-certificates:${command} DATABASE\\s+\\S`, 'm'));
  }
  assert.match(help.stdout, /^  data:enhanced-certificates:rotate DATABASE ROOT\s+\S/m);
  assert.match(help.stdout, /trust-bundle prints its PEM either way/);
  const one = await acm(['certs:auto', '--help']);
  assert.deepEqual([one.code, one.stdout.split('\n')[0]], [0, 'Usage: acm certs:auto [--wait] [--timeout SECONDS] [--app APP] [--json]']);
});

test("the API's errors: its message on one stderr line, and the exit code of its status", async () => {
  const expectApiError = async (run: Run, status: number, method: string, path: string, body?: unknown, token?: string | null) => {
    const answer = await api(cloud(), method, path, body, token);
    assert.equal(answer.status, status, JSON.stringify(answer.body));
    assert.deepEqual(run, { code: exitCodeForHttpStatus(status), stdout: '', stderr: `acm: ${answer.body.error.message}\n` });
  };
  await expectApiError(await acm(['domains:add', '*.cli.test']), 400, 'POST', `/apps/${APP}/domains`, { hostname: '*.cli.test' });
  assert.match((await acm(['domains:add', '*.cli.test'])).stderr, /^acm: hostname: wildcard domains are not supported\n$/);
  await expectApiError(await acm(['domains:events', 'nope.cli.test']), 404, 'GET', `/apps/${APP}/domains/nope.cli.test/events`);
  const stranger = cloud().tokens.forApps('someone-else');
  await expectApiError(await acm(['domains'], { ACM_TOKEN: stranger }), 404, 'GET', `/apps/${APP}/domains`, undefined, stranger);
  await expectApiError(await acm(['certs:auto'], { ACM_APP: 'no-such-app' }), 404, 'GET', '/apps/no-such-app/acm');
  await expectApiError(await acm(['domains'], { ACM_TOKEN: 'not-a-token' }), 401, 'GET', `/apps/${APP}/domains`, undefined, 'not-a-token');
  await expectApiError(await acm(['domains'], { ACM_TOKEN: '' }), 401, 'GET', `/apps/${APP}/domains`, undefined, null);

  const taken = await acm(['domains:add', 'www.cli.test'], { ACM_APP: 'cli-other' });
  assert.equal(taken.code, EXIT.conflict, taken.stderr);
  assert.match(taken.stderr, /^acm: .+\n$/);

  const nobody = `http://127.0.0.1:${await freePort()}`;
  const unreachable = await acm(['domains'], { ACM_API_URL: nobody });
  assert.deepEqual(unreachable, { code: EXIT.unreachable, stdout: '', stderr: `acm: cannot reach the API at ${nobody}: ECONNREFUSED\n` });
});

test('formatting: aligned columns, relative "Last Updated" as the platform shows it, the rate-limit end, exit codes by HTTP status', () => {
  assert.equal(table(['A', 'Long'], [['xyz', 'b']]), 'A    Long\n───  ────\nxyz  b');
  const view = acmStatusView(
    {
      app: 'a',
      enabled: true,
      domains: [
        {
          hostname: 'x.example.com',
          status: 'Failing',
          reason: 'RATE_LIMITED',
          message: 'The CA limits ...',
          lastUpdated: '2030-01-01T00:00:00.000Z',
          rateLimitedUntil: '2030-01-01T01:00:00.000Z',
          dnsTarget: 't',
        },
      ],
    },
    new Date('2030-01-01T01:05:00.000Z'),
  );
  assert.match(view, /\nx\.example\.com\s+Failing\s+about 1 hour\s+RATE_LIMITED until 2030-01-01T01:00:00\.000Z\n/);
  assert.match(view, /\n\nx\.example\.com: The CA limits \.\.\.$/);
  assert.deepEqual([400, 401, 403, 404, 409, 429, 500].map(exitCodeForHttpStatus), [5, 7, 3, 3, 4, 6, 1]);
});

test('relative times read as the platform CLI reads them; an unreadable time is shown as it is', () => {
  const now = new Date('2026-12-01T12:00:00.000Z');
  assert.equal(relativeTime('2026-12-01T11:59:50.000Z', now), 'less than a minute');
  assert.equal(relativeTime('2026-12-01T11:55:00.000Z', now), '5 minutes');
  assert.equal(relativeTime('2026-12-01T11:00:00.000Z', now), 'about 1 hour');
  assert.equal(relativeTime('2026-11-28T12:00:00.000Z', now), '3 days');
  assert.equal(relativeTime('not a time', now), 'not a time');
});
