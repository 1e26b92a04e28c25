// `npm run bench:reliability [-- --quick] [-- --seed S] [-- --scenarios a,b] [-- --verbose]`: a fault campaign
// against the real local stack (one local cloud in a temporary folder: DynamoDB Local, Pebble
// behind the ACME fault proxy, the DNS zone, the router, the workflow runner, the projector).
// Each scenario ends in one line on stdout:
//
//   reliability <scenario>: runs=<n> issued=<n> lost=<n> duplicated=<n> orphaned=<n> wrong_state=<n>
//
// Progress and findings go to stderr (--verbose: every finding, and the logs behind the first
// differences of `events`). The exit code is 1 when a scenario missed what it expects (below).
// Full: 200 domains, 10,000 appends, 10,000 inputs, 1,000 platform events; --quick: 40, 1,000,
// 1,000, 200.
//
// ca-faults: domains added over the API while the CA answers 50% badNonce, 5% HTTP 500 (on every
//   signed request) and one rateLimited with Retry-After: 5 s. Expected: at least 99.5% issued,
//   none lost, the rate-limited domain ordered again no sooner than its Retry-After, nothing
//   duplicated, orphaned or wrong.
//   runs        domains added (201).
//   issued      domains whose log folds to "Cert Issued".
//   lost        added, but at the end neither issued nor Failing/Failed with a reason.
//   duplicated  an attempt with two CertificateIssued or two CertificateInstalled; a try (the events
//               between two IssuanceFailed, or an OrderForgottenByCa, of one attempt) with the same step
//               outcome twice (DnsVerified, OrderBudgetTaken, OrderCreated, ChallengePublished,
//               ChallengeValidated); or more than one certificate in the certificate store for a domain.
//   orphaned    a certificate in the store that no domain's log points at.
//   wrong_state the status projection (GET /apps/{app}/acm, once the projector has caught up) differing
//               from certificateStatus(fold(log)); plus an order created before the CA's Retry-After.
//
// writers: 16 writers append to one stream of the event store on DynamoDB Local, each reading the
//   stream's last version and appending after it, again on a ConcurrencyError. Expected: all zero.
//   runs        appends to make.          issued      appends acknowledged.
//   lost        acknowledged, not stored. duplicated  a payload stored more than once.
//   orphaned    stored, never acknowledged.
//   wrong_state versions that are not exactly 1..n, without gaps or repeats.
//
// fuzz: generated inputs (seeded) to POST /apps/{app}/domains and to routes around it (remove a
//   domain, its timeline, a database's enhanced certificate and its rotation, certificate upload and
//   replacement), in process through the local cloud's dispatcher, the authorizer included.
//   runs        inputs.                   issued      inputs accepted (2xx).
//   lost        domains accepted (201) and not removed since, missing from their app's log.
//   duplicated  an app's log attaching one hostname twice without detaching it in between.
//   orphaned    0: nothing in this scenario can orphan.
//   wrong_state a 5xx; a 4xx whose message does not name the field (`<field>: ...`; a 404 may name the
//               value it did not find instead, as given or normalised; an empty path parameter matches
//               no route, and the router's 404 says so); a 2xx for a domain without the normalised name; an
//               event appended for a refused input (appends are counted per input, exactly: the event
//               store's append is wrapped, each input runs in its own async context; a count of the
//               whole table before and after checks that nothing appended unseen).
//
// events: platform events (DomainAdded, DomainRemoved, AppDeleted, DatabaseAdded, DatabaseRemoved)
//   over a set of apps, delivered shuffled, with duplicates, four at a time, to one namespace of apps;
//   the same events delivered once each in order to another. Automation is off for these apps, so
//   nothing is issued. Expected: the same final state, every receipt once.
//   runs        distinct platform events. issued      deliveries (both namespaces) the handler answered, not threw.
//   lost        domains or databases present after in-order delivery, missing after shuffled delivery.
//   duplicated  a platform event whose receipt was recorded more than once.
//   orphaned    domains or databases present after shuffled delivery, absent after in-order delivery.
//   wrong_state every difference of final state (per app: deleted, domains, databases; per domain or
//               database: present or not), from the log folds.
//
// keys: everything this run logged (stdout and stderr), stored (every table, scanned), passed
//   between workflow states and answered (every API answer and platform-event answer of the run)
//   holds no private key bytes (installed certificates' keys, uploaded keys, the ACME account key).
//   runs        private keys searched for. issued      of which the CA issued in this run.
//   lost, duplicated, orphaned  0: not measured here.
//   wrong_state places holding key bytes (or any PEM private key).
//
// kill: see kill() below.
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { CERTIFICATE_FILE } from '../functions/adapters/certificates/local-certificate-store.ts';
import { foldApp } from '../functions/domain/app-decider.ts';
import { fold } from '../functions/domain/certificate-decider.ts';
import { ConcurrencyError } from '../functions/domain/errors.ts';
import { streamIds, type AppEvent, type DomainEvent, type RecordedEvent, type StreamEvent } from '../functions/domain/events.ts';
import { checkHostname } from '../functions/domain/hostname.ts';
import { ACME_ERROR_PREFIX } from '../functions/domain/acme-problem.ts';
import { certificateStatus } from '../functions/domain/status.ts';
import type { AcmeOperation } from '../infra/local/acme-fault-proxy.ts';
import { LOCAL_DATABASE_HOST_SUFFIX, LOCAL_DNS_TARGET_SUFFIX, startLocalCloud, type LocalCloud } from '../infra/local/cloud.ts';
import { localClientConfig } from '../infra/local/local-ports.ts';
import { issue } from '../test/support/certificates.ts';
import { AFTER_IMPORT, startCloudProcess, type CloudProcessReady } from '../test/support/cloud-process.ts';
import { captureOutput, placesHoldingKeys, scanAllTables, workflowRecords } from '../test/support/private-keys.ts';
import { ISSUANCE_STEPS } from '../infra/workflows/issuance.ts';
import { seededRandom } from './seeded-random.ts';

// Everything written from here on is searched for key bytes by the `keys` scenario.
const output = captureOutput();

const SCENARIOS = ['kill', 'ca-faults', 'writers', 'fuzz', 'events', 'keys'] as const;
type ScenarioName = (typeof SCENARIOS)[number];

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    seed: { type: 'string', default: '20261201' },
    scenarios: { type: 'string', default: SCENARIOS.join(',') },
    /** Every finding, not the first few of each kind; the logs behind the first differences of `events`. */
    verbose: { type: 'boolean', default: false },
  },
});
const QUICK = args.quick ?? false;
const VERBOSE = args.verbose ?? false;
const SEED = Number(args.seed);
const SELECTED = (args.scenarios ?? '').split(',').filter(Boolean) as ScenarioName[];
for (const name of SELECTED) if (!SCENARIOS.includes(name)) throw new Error(`unknown scenario ${name}; one of ${SCENARIOS.join(', ')}`);

const SIZES = QUICK
  ? { caDomains: 40, caApps: 4, caDeadlineMs: 120_000, appends: 1_000, fuzzInputs: 1_000, fuzzApps: 10, platformEvents: 200, eventApps: 8 }
  : {
      caDomains: 200,
      caApps: 10,
      caDeadlineMs: 240_000,
      appends: 10_000,
      fuzzInputs: 10_000,
      fuzzApps: 50,
      platformEvents: 1_000,
      eventApps: 25,
    };

interface Counts {
  runs: number;
  issued: number;
  lost: number;
  duplicated: number;
  orphaned: number;
  wrong_state: number;
}

interface Outcome extends Counts {
  /** What missed its expectation, in words; empty when the scenario is as expected. */
  failures: string[];
  /** What is worth knowing but within expectations (a domain of 200 that did not make it). */
  notes?: string[];
}

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
const progress = (line: string) => process.stderr.write(`[reliability ${elapsed().padStart(8)}] ${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `task` over `items`, `concurrency` at a time. */
async function pool<T>(items: T[], concurrency: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await task(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

interface Answer {
  status: number;
  body: any;
  text: string;
}

/** The API in process (the local cloud's dispatcher: routes, throttle, authorizer, handlers); every answer is kept for `keys`. */
class Api {
  readonly answers: Array<{ method: string; path: string; status: number; text: string }> = [];

  constructor(private readonly cloud: LocalCloud) {}

  async call(method: string, path: string, body?: unknown, token = this.cloud.tokens.operator, rawBody?: string): Promise<Answer> {
    const result = await this.cloud.dispatch({
      method,
      path,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(rawBody !== undefined ? { body: rawBody } : body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = result.body ?? '';
    this.answers.push({ method, path, status: result.statusCode, text });
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // a PEM or an empty body
    }
    return { status: result.statusCode, body: parsed, text };
  }

  async ok(method: string, path: string, body?: unknown, token?: string): Promise<any> {
    const answer = await this.call(method, path, body, token);
    if (answer.status >= 300) throw new Error(`${method} ${path} answered ${answer.status}: ${answer.text}`);
    return answer.body;
  }
}

interface Run {
  cloud: LocalCloud;
  api: Api;
  /** Platform-event answers, kept for `keys`. */
  platformAnswers: unknown[];
  /** Uploaded certificates' keys (fuzz), for `keys`. */
  uploadedKeys: string[];
  /** Hostnames the CA issued for in this run, for `keys`. */
  issuedHostnames: Set<string>;
}

/** Every certificate in the local certificate store, read from its folder (the store has no listing). */
async function storedCertificates(cloud: LocalCloud): Promise<Array<{ certificateArn: string; hostname: string }>> {
  const directory = join(cloud.dataDir, 'certificates');
  const entries = await readdir(directory, { withFileTypes: true }).catch(() => []);
  const records: Array<{ certificateArn: string; hostname: string }> = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const text = await readFile(join(directory, entry.name, CERTIFICATE_FILE), 'utf8').catch(() => undefined);
    if (!text) continue;
    const { certificateArn, hostname } = JSON.parse(text) as { certificateArn: string; hostname: string };
    records.push({ certificateArn, hostname });
  }
  return records;
}

const sortedJson = (value: unknown): string =>
  JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b)))
      : item,
  );

// ---------------------------------------------------------------------------------------------
// ca-faults

/** Every request acme-client signs: each may be answered badNonce or 500. */
const SIGNED_OPERATIONS: AcmeOperation[] = ['newAccount', 'newOrder', 'authorization', 'challenge', 'finalize', 'order', 'certificate'];
const BAD_NONCE_RATE = 0.5;
const SERVER_ERROR_RATE = 0.05;
const RETRY_AFTER_SECONDS = 5;
/** Step outcomes a try records once; a second one in the same try is a duplicate. */
const ONCE_PER_TRY: Array<DomainEvent['type']> = [
  'DnsVerified',
  'OrderBudgetTaken',
  'OrderCreated',
  'ChallengePublished',
  'ChallengeValidated',
];
const ONCE_PER_ATTEMPT: Array<DomainEvent['type']> = ['CertificateIssued', 'CertificateInstalled'];
/** What ends a try: the next one starts again at CheckDns (or orders afresh). */
const TRY_BOUNDARIES: Array<DomainEvent['type']> = ['IssuanceFailed', 'OrderForgottenByCa'];

function duplicatesIn(events: RecordedEvent<DomainEvent>[]): string[] {
  const found: string[] = [];
  const perAttempt = new Map<string, number>();
  let perTry = new Map<string, number>();
  let attempt = 0;
  for (const event of events) {
    const data = event.data as { attempt?: number };
    if (event.type === 'IssuanceRequested') {
      attempt = data.attempt ?? attempt + 1;
      perTry = new Map();
    }
    if (TRY_BOUNDARIES.includes(event.type)) perTry = new Map();
    const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1).get(key)!;
    if (ONCE_PER_TRY.includes(event.type) && count(perTry, event.type) === 2)
      found.push(`${event.type} twice in one try of attempt ${attempt}`);
    if (ONCE_PER_ATTEMPT.includes(event.type) && count(perAttempt, `${attempt}:${event.type}`) === 2)
      found.push(`${event.type} twice in attempt ${attempt}`);
  }
  return found;
}

async function caFaults(run: Run): Promise<Outcome> {
  const { cloud, api } = run;
  const apps = Array.from({ length: SIZES.caApps }, (_, index) => `cf${index}`);
  const domains = Array.from({ length: SIZES.caDomains }, (_, index) => {
    const app = apps[index % apps.length]!;
    return { app, hostname: `d${index}.${app}.faults.test` };
  });
  const rateLimited = domains[0]!;
  for (const { app, hostname } of domains) cloud.dns.zone.set(hostname, 'CNAME', [`${app}.${LOCAL_DNS_TARGET_SUFFIX}`]);

  // The one rate limit first (the proxy takes the first fault that matches and fires), naming only
  // the domain's exact set: the ledger then holds back that domain alone until Retry-After.
  cloud.acmeFaults.inject({
    operation: 'newOrder',
    hostname: rateLimited.hostname,
    times: 1,
    response: {
      status: 429,
      problem: {
        type: `${ACME_ERROR_PREFIX}rateLimited`,
        detail: `too many certificates (5) already issued for this exact set of identifiers: retry after ${new Date(Date.now() + RETRY_AFTER_SECONDS * 1000).toISOString()}`,
      },
      retryAfterSeconds: RETRY_AFTER_SECONDS,
    },
  });
  // Per signed request: 500 with 5%, else badNonce with 50% overall (0.5 of the 95% left).
  for (const operation of SIGNED_OPERATIONS) {
    cloud.acmeFaults.inject({
      operation,
      probability: SERVER_ERROR_RATE,
      response: { status: 500, problem: { type: `${ACME_ERROR_PREFIX}serverInternal`, detail: 'injected: the CA had a moment' } },
    });
    cloud.acmeFaults.inject({
      operation,
      probability: BAD_NONCE_RATE / (1 - SERVER_ERROR_RATE),
      response: {
        status: 400,
        problem: { type: `${ACME_ERROR_PREFIX}badNonce`, detail: 'injected: JWS has an invalid anti-replay nonce' },
      },
    });
  }
  const logStart = cloud.acmeFaults.log.length;
  const failures: string[] = [];
  const added: typeof domains = [];
  try {
    await pool(domains, 10, async (domain) => {
      const answer = await api.call('POST', `/apps/${domain.app}/domains`, { hostname: domain.hostname });
      if (answer.status === 201) added.push(domain);
      else failures.push(`adding ${domain.hostname} answered ${answer.status}: ${answer.text}`);
    });
    progress(`ca-faults: ${added.length} domains added over ${apps.length} apps; waiting for each to settle`);

    // Settled: every domain "Cert Issued" or "Failed" in the projection, or the deadline.
    const deadline = Date.now() + SIZES.caDeadlineMs;
    const tokens = new Map(apps.map((app) => [app, cloud.tokens.forApps(app)]));
    let lastReport = Date.now();
    for (;;) {
      const rows = (
        await Promise.all(apps.map(async (app) => (await api.ok('GET', `/apps/${app}/acm`, undefined, tokens.get(app))).domains))
      )
        .flat()
        .filter((row: { hostname: string }) => added.some((domain) => domain.hostname === row.hostname));
      const settled = rows.filter((row: { status: string }) => row.status === 'Cert Issued' || row.status === 'Failed').length;
      if (settled === added.length) break;
      if (Date.now() > deadline) {
        failures.push(`${added.length - settled} domains not settled after ${SIZES.caDeadlineMs / 1000} s`);
        break;
      }
      if (Date.now() - lastReport > 10_000) {
        lastReport = Date.now();
        const injected = cloud.acmeFaults.log.slice(logStart).filter((entry) => entry.injected).length;
        progress(`ca-faults: ${settled}/${added.length} settled, ${injected} faults injected so far`);
      }
      await sleep(500);
    }
  } finally {
    cloud.acmeFaults.clear();
  }
  const seen = cloud.acmeFaults.log.slice(logStart);
  const signed = seen.filter((entry) => SIGNED_OPERATIONS.includes(entry.operation));
  const badNonces = signed.filter((entry) => entry.injected && entry.status === 400).length;
  const serverErrors = signed.filter((entry) => entry.injected && entry.status === 500).length;
  progress(
    `ca-faults: ${signed.length} signed requests: ${badNonces} badNonce (${((100 * badNonces) / signed.length).toFixed(1)}%), ` +
      `${serverErrors} HTTP 500 (${((100 * serverErrors) / signed.length).toFixed(1)}%), ` +
      `${seen.filter((entry) => entry.injected && entry.status === 429).length} rateLimited`,
  );

  // The log decides; the projection must agree with it once the projector has caught up.
  const logs = new Map<string, RecordedEvent<DomainEvent>[]>();
  const readLogs = async () => {
    for (const { app, hostname } of added) logs.set(hostname, await cloud.ports.events.read<DomainEvent>(streamIds.domain(app, hostname)));
  };
  const projectionDiffers = async (): Promise<string[]> => {
    await readLogs();
    const differing: string[] = [];
    for (const app of apps) {
      const rows = (await api.ok('GET', `/apps/${app}/acm`)).domains as Array<{ hostname: string }>;
      for (const { hostname } of added.filter((domain) => domain.app === app)) {
        const folded = certificateStatus(fold(logs.get(hostname)!));
        const projected = rows.find((row) => row.hostname === hostname);
        if (sortedJson(folded) !== sortedJson(projected))
          differing.push(`${hostname}: projection ${sortedJson(projected)}, log ${sortedJson(folded)}`);
      }
    }
    return differing;
  };
  let differing = await projectionDiffers();
  for (const until = Date.now() + 15_000; differing.length > 0 && Date.now() < until;) {
    await sleep(250);
    differing = await projectionDiffers();
  }

  let issued = 0;
  let lost = 0;
  const notes: string[] = [];
  const duplicates: string[] = [];
  const pointedAt = new Set<string>();
  for (const { hostname } of added) {
    const events = logs.get(hostname)!;
    const state = fold(events);
    const status = certificateStatus(state);
    if (state.certificate) pointedAt.add(state.certificate.certificateArn);
    if (status?.status === 'Cert Issued') {
      issued++;
      run.issuedHostnames.add(hostname);
    } else if (!((status?.status === 'Failing' || status?.status === 'Failed') && status.reason)) {
      lost++;
      failures.push(`lost: ${hostname} ends ${sortedJson(status)}`);
    } else notes.push(`not issued: ${hostname} ${status.status} ${status.reason}: ${status.message}`);
    for (const duplicate of duplicatesIn(events)) duplicates.push(`${hostname}: ${duplicate}`);
  }
  const stored = (await storedCertificates(cloud)).filter((record) => record.hostname.endsWith('.faults.test'));
  const perHostname = new Map<string, number>();
  for (const record of stored) perHostname.set(record.hostname, (perHostname.get(record.hostname) ?? 0) + 1);
  for (const [hostname, count] of perHostname) if (count > 1) duplicates.push(`${hostname}: ${count} certificates in the store`);
  const orphans = stored.filter((record) => !pointedAt.has(record.certificateArn));

  // The rate-limited domain: RateLimited, then its next OrderCreated at or after `until`.
  const wrong = [...differing];
  const timeline = logs.get(rateLimited.hostname) ?? [];
  const limitedAt = timeline.findIndex((event) => event.type === 'RateLimited');
  if (limitedAt < 0) failures.push(`${rateLimited.hostname}: no RateLimited event in its log`);
  else {
    const until = Date.parse((timeline[limitedAt]!.data as { until: string }).until);
    const next = timeline.slice(limitedAt + 1).find((event) => event.type === 'OrderCreated');
    if (!next) failures.push(`${rateLimited.hostname}: no order after the rate limit`);
    else if (Date.parse(next.at) < until)
      wrong.push(`${rateLimited.hostname}: ordered at ${next.at}, before the Retry-After ${new Date(until).toISOString()}`);
    else progress(`ca-faults: ${rateLimited.hostname} rate limited until ${new Date(until).toISOString()}, ordered again at ${next.at}`);
  }

  const counts = { runs: added.length, issued, lost, duplicated: duplicates.length, orphaned: orphans.length, wrong_state: wrong.length };
  if (issued < Math.ceil(0.995 * domains.length)) failures.push(`only ${issued} of ${domains.length} issued (at least 99.5% expected)`);
  for (const duplicate of duplicates) failures.push(`duplicated: ${duplicate}`);
  for (const orphan of orphans) failures.push(`orphaned: ${orphan.certificateArn} (${orphan.hostname})`);
  for (const line of wrong) failures.push(`wrong state: ${line}`);
  return { ...counts, failures, notes };
}

// ---------------------------------------------------------------------------------------------
// writers

const WRITERS = 16;

async function writers(run: Run): Promise<Outcome> {
  const events = run.cloud.ports.events;
  const streamId = `bench-writers#${Date.now()}`;
  const perWriter = Math.ceil(SIZES.appends / WRITERS);
  const acknowledged = new Set<string>();
  const errors: string[] = [];
  let conflicts = 0;
  let made = 0;
  const writer = async (writerIndex: number) => {
    for (let sequence = 0; sequence < perWriter && made < SIZES.appends; sequence++) {
      made++;
      const id = `${writerIndex}-${sequence}`;
      const event = { type: 'BenchPayloadAppended', data: { id } } as unknown as StreamEvent;
      for (let tries = 0; ; tries++) {
        const last = await events.readLast(streamId);
        try {
          await events.append([{ streamId, expectedVersion: last?.version ?? 0, events: [event] }], {
            at: new Date().toISOString(),
            correlationId: `bench-writer-${writerIndex}`,
          });
          acknowledged.add(id);
          break;
        } catch (error) {
          if (!(error instanceof ConcurrencyError)) {
            errors.push(`${id}: ${String(error)}`);
            if (tries >= 5) break;
          } else conflicts++;
          // Randomised exponential backoff (up to 64 ms): the writers that lost come back spread
          // out, so each round wastes fewer conditional writes on DynamoDB Local (measured here:
          // 16 writers make about 125 appends a second so, against about 80 with a 2 ms pause).
          await sleep(Math.random() * 2 ** Math.min(tries, 6));
        }
      }
    }
  };
  let lastReport = Date.now();
  const reporter = setInterval(() => {
    if (Date.now() - lastReport < 10_000) return;
    lastReport = Date.now();
    progress(`writers: ${acknowledged.size}/${SIZES.appends} appended, ${conflicts} conflicts retried`);
  }, 1000);
  try {
    await Promise.all(Array.from({ length: WRITERS }, (_, index) => writer(index)));
  } finally {
    clearInterval(reporter);
  }
  const stored = await events.read(streamId);
  const ids = new Map<string, number>();
  for (const event of stored) {
    const { id } = event.data as unknown as { id: string };
    ids.set(id, (ids.get(id) ?? 0) + 1);
  }
  const lost = [...acknowledged].filter((id) => !ids.has(id));
  const duplicated = [...ids].filter(([, count]) => count > 1);
  const orphaned = [...ids.keys()].filter((id) => !acknowledged.has(id));
  const misnumbered = stored.filter((event, index) => event.version !== index + 1).length;
  progress(`writers: ${stored.length} events stored, ${conflicts} conflicts retried, ${errors.length} other errors`);
  const failures = [
    ...errors.slice(0, 5).map((error) => `append failed: ${error}`),
    ...lost.slice(0, 5).map((id) => `lost: ${id}`),
    ...duplicated.slice(0, 5).map(([id, count]) => `duplicated: ${id} stored ${count} times`),
    ...orphaned.slice(0, 5).map((id) => `orphaned: ${id}`),
    ...(misnumbered > 0 ? [`${misnumbered} events out of place in versions 1..${stored.length}`] : []),
    ...(acknowledged.size !== SIZES.appends ? [`${acknowledged.size} of ${SIZES.appends} appends acknowledged`] : []),
  ];
  return {
    runs: SIZES.appends,
    issued: acknowledged.size,
    lost: lost.length,
    duplicated: duplicated.length,
    orphaned: orphaned.length,
    wrong_state: misnumbered,
    failures,
  };
}

// ---------------------------------------------------------------------------------------------
// fuzz

interface FuzzInput {
  route: string;
  method: string;
  path: string;
  /** The raw body as sent (not always JSON). */
  body?: string;
  /** The fields a refusal may name. */
  fields: string[];
  /** For a 404: the value that was not found (as given, or normalised), which the message may name instead of the field. */
  lookedUp?: string[];
  /** A path parameter is empty: no route matches, and the router's 404 says so. */
  emptyParameter?: boolean;
  /** The hostname the input names, for the normalised-name check of a 2xx. */
  hostname?: unknown;
  app: string;
}

const IDN_NAMES = [
  'bücher.example',
  'BÜCHER.Example',
  'пример.испытание',
  'ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏｍ',
  '例え.テスト',
  '☃.net',
  'faß.de',
  'مثال.example',
  'xn--bcher-kva.example',
  'xn--zz.example',
  'a\u200db.example',
  'münchen。de',
  'ǅ.example',
  'İstanbul.example',
];
const IP_SPELLINGS = [
  '127.0.0.1',
  '127.1',
  '0x7f.0.0.1',
  '2130706433',
  '[::1]',
  '::1',
  '1.2.3.4',
  '0177.0.0.1',
  '１２７.０.０.１',
  '10.0.0.1.',
];
const CONTROL = ['\u0000', '\u0001', '\t', '\n', '\r', '\u001f', '\u007f', '\u00a0', '\u200b', '\u2028', '\ufeff', '\ud800'];
const TLDS = ['test', 'example', 'com', 'co.uk', 'dev', 'xn--p1ai', 'io'];

function fuzzHostname(random: () => number): string {
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const label = (max = 12) => {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-';
    const length = 1 + Math.floor(random() * max);
    let text = '';
    for (let index = 0; index < length; index++) text += alphabet[Math.floor(random() * (index === 0 ? 36 : alphabet.length))];
    return text.endsWith('-') ? `${text}x` : text;
  };
  const base = () => `${Array.from({ length: 1 + Math.floor(random() * 3) }, () => label()).join('.')}.${pick(TLDS)}`;
  const mixCase = (name: string) => [...name].map((character) => (random() < 0.4 ? character.toUpperCase() : character)).join('');
  switch (Math.floor(random() * 20)) {
    case 0:
    case 1:
    case 2:
      return base();
    case 3:
      return mixCase(base());
    case 4:
      return `${base()}${pick(['.', '..', '. ', ' '])}`;
    case 5:
      return `${pick(['https://', 'http://', '//', ''])}${base()}${pick(['/', '/path', '/.well-known/acme-challenge/x', '?q=1', '#frag', ''])}`;
    case 6:
      return `${base()}:${pick(['80', '443', '8080', '', '99999'])}`;
    case 7:
      return pick(IP_SPELLINGS);
    case 8: {
      const name = base();
      const at = Math.floor(random() * (name.length + 1));
      return `${name.slice(0, at)}${pick(CONTROL)}${name.slice(at)}`;
    }
    case 9:
      return `${'a'.repeat(60 + Math.floor(random() * 10))}.${base()}`;
    case 10:
      return `${Array.from({ length: 5 + Math.floor(random() * 5) }, () => 'b'.repeat(50)).join('.')}.test`;
    case 11:
      return pick(['', ' ', '.', '..', '-', 'localhost', 'test', 'co.uk', 'com', 'a..b.test', '.a.test']);
    case 12:
      return pick(['*.', '*', 'a.*.', '**.', '*a.']) + base();
    case 13:
      return pick(IDN_NAMES);
    case 14:
      return mixCase(pick(IDN_NAMES));
    case 15:
      return `${label()}${pick(['_', '%41', '@', '!', '$', ',', ';', '"', "'", '\\', '`', '~', '^', '{', '<'])}${label()}.test`;
    case 16:
      return `${pick(['-a', 'a-', 'xn--', '-'])}.${base()}`;
    case 17:
      return `${label()}.${label()}.${LOCAL_DATABASE_HOST_SUFFIX}`;
    case 18:
      return `${label(60)}.${label(60)}.${label(60)}.${label(60)}.${label(60)}.test`;
    default:
      return mixCase(`${label()}.${base()}`);
  }
}

function fuzzDomainBody(random: () => number): { body: string; hostname?: unknown } {
  const hostname = fuzzHostname(random);
  const roll = random();
  if (roll < 0.7) return { body: JSON.stringify({ hostname }), hostname };
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  switch (Math.floor(random() * 10)) {
    case 0: {
      const wrong = pick([123, null, true, ['a.test'], { name: 'a.test' }, 1e309, -0]);
      return { body: JSON.stringify({ hostname: wrong }), hostname: wrong };
    }
    case 1:
      return {
        body: JSON.stringify({ hostname, dnsTarget: 'evil.example', app: 'someone-else', __proto__: { admin: true }, extra: [1, 2] }),
        hostname,
      };
    case 2:
      return { body: JSON.stringify({ hostname: 'x'.repeat(pick([254, 1000, 100_000])) }), hostname: 'huge' };
    case 3:
      return { body: JSON.stringify({ hostname, padding: 'p'.repeat(pick([10_000, 500_000])) }), hostname };
    case 4:
      return {
        body: pick([
          '',
          'hostname=a.test',
          '{"hostname":',
          '{hostname: "a.test"}',
          'null',
          '[]',
          '"a.test"',
          '42',
          '\u0000',
          '{"hostname":"a.test"}}',
        ]),
      };
    case 5:
      return { body: `\ufeff${JSON.stringify({ hostname })}`, hostname };
    case 6:
      return { body: `{"hostname":"${hostname.replace(/["\\]/g, '')}","hostname":"second.test"}`, hostname: 'second.test' };
    case 7:
      return { body: JSON.stringify({}) };
    case 8:
      return { body: JSON.stringify([{ hostname }]) };
    default:
      return { body: JSON.stringify({ Hostname: hostname }) };
  }
}

const DATABASE_NAMES = [
  '',
  ' ',
  'UPPER',
  'a_b',
  '-a',
  'a-',
  'a'.repeat(64),
  'ü',
  '..',
  '.',
  'a.b',
  '%2e%2e',
  'a%2Fb',
  'main',
  'orders',
  '0',
  'a b',
  '\u0000',
  'db\n',
  '%ZZ',
  '%',
  'x'.repeat(300),
];

async function fuzz(run: Run): Promise<Outcome> {
  const { cloud, api } = run;
  const random = seededRandom(SEED);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const apps = Array.from({ length: SIZES.fuzzApps }, (_, index) => `fz${index}`);
  // Automation off (the app is created by enabling it first): an accepted domain starts no issuance.
  for (const app of apps) {
    await api.ok('POST', `/apps/${app}/acm`);
    await api.ok('DELETE', `/apps/${app}/acm`);
  }
  // One uploaded certificate to replace with garbage (on an app of its own).
  const certsApp = 'fzcerts';
  const root = await issue({ subject: 'CN=Fuzz Root', ca: true });
  const leaf = await issue({ subject: 'CN=www.fzcerts.test', issuer: root, names: ['www.fzcerts.test'] });
  const other = await issue({ subject: 'CN=other.fzcerts.test', issuer: root, names: ['other.fzcerts.test'] });
  run.uploadedKeys.push(leaf.keyPem, other.keyPem);
  const uploaded = (await api.ok('POST', `/apps/${certsApp}/certs`, { certificateChain: leaf.pem, privateKey: leaf.keyPem })) as {
    name: string;
  };
  // Distinct tokens spread the requests over the dispatcher's per-token throttle (50/s, burst 100 each).
  const tokens = Array.from({ length: 128 }, (_, index) => cloud.tokens.forApps(...apps, certsApp, `fuzz-token-${index}`));

  const pem = (label: string, body: string) => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
  const garbageChains = [
    '',
    'x',
    pem('CERTIFICATE', 'AAAA'),
    pem('CERTIFICATE', '!!!notbase64!!!'),
    leaf.pem.slice(0, leaf.pem.length / 2),
    other.pem,
    `${leaf.pem}${leaf.pem}`,
    `${root.pem}${leaf.pem}`,
    leaf.pem.replace(/A/g, 'B'),
    'C'.repeat(200_000),
  ];
  const garbageKeys = ['', 'k', pem('PRIVATE KEY', 'AAAA'), other.keyPem, pem('RSA PRIVATE KEY', 'MIIB'), leaf.keyPem.slice(0, 60)];
  const certBody = (): { body: string } => {
    switch (Math.floor(random() * 6)) {
      case 0:
        return { body: JSON.stringify({ certificateChain: pick(garbageChains), privateKey: pick(garbageKeys) }) };
      case 1:
        return { body: JSON.stringify({ certificateChain: pick(garbageChains) }) };
      case 2:
        return { body: JSON.stringify({ certificateChain: pick([1, null, [], {}, true]), privateKey: pick([1, null, [], {}]) }) };
      case 3:
        return { body: JSON.stringify({ privateKey: pick(garbageKeys) }) };
      case 4:
        return { body: pick(['', 'not json', '[]', 'null', '{"certificateChain":']) };
      default:
        return { body: JSON.stringify({ certificateChain: leaf.pem, privateKey: pick(garbageKeys), extra: 'x' }) };
    }
  };

  const inputs: FuzzInput[] = [];
  for (let index = 0; index < SIZES.fuzzInputs; index++) {
    const app = apps[index % apps.length]!;
    const roll = random();
    if (roll < 0.6) {
      const { body, hostname } = fuzzDomainBody(random);
      inputs.push({
        route: 'POST domains',
        method: 'POST',
        path: `/apps/${app}/domains`,
        body,
        fields: ['hostname', 'body'],
        hostname,
        app,
      });
    } else if (roll < 0.7) {
      const hostname = fuzzHostname(random);
      // Mostly encoded as a client would; now and then as it is (but for what would end the path).
      const inPath = random() < 0.9 ? encoded(hostname) : unencoded(hostname);
      const method = random() < 0.5 ? 'DELETE' : 'GET';
      const path = method === 'DELETE' ? `/apps/${app}/domains/${inPath}` : `/apps/${app}/domains/${inPath}/events`;
      const received = safelyDecoded(inPath);
      const checked = checkHostname(received);
      inputs.push({
        route: `${method} domain`,
        method,
        path,
        fields: ['hostname'],
        lookedUp: [received, ...(checked.valid ? [checked.hostname] : [])],
        emptyParameter: inPath === '',
        hostname: received,
        app,
      });
    } else if (roll < 0.8) {
      const database = random() < 0.7 ? pick(DATABASE_NAMES) : fuzzHostname(random);
      const inPath = random() < 0.8 ? encoded(database) : unencoded(database);
      inputs.push({
        route: 'POST enhanced-certificates',
        method: 'POST',
        path: `/apps/${app}/databases/${inPath}/enhanced-certificates`,
        fields: ['database'],
        lookedUp: [safelyDecoded(inPath)],
        emptyParameter: inPath === '',
        app,
      });
    } else if (roll < 0.85) {
      const database = pick(DATABASE_NAMES);
      const body = pick([JSON.stringify({ root: pick(['', 'Pebble Root', 'x'.repeat(1000), 1, null]) }), '', '{}', 'nope']);
      inputs.push({
        route: 'POST rotate',
        method: 'POST',
        path: `/apps/${app}/databases/${encoded(database)}/enhanced-certificates/rotate`,
        body,
        fields: ['database', 'root', 'body'],
        lookedUp: [database],
        emptyParameter: database === '',
        app,
      });
    } else if (roll < 0.95) {
      const name = random() < 0.8 ? uploaded.name : pick(['nope', '', '%00', 'x'.repeat(300), '..', 'a%2Fb']);
      inputs.push({
        route: 'PUT certs',
        method: 'PUT',
        path: `/apps/${certsApp}/certs/${name}`,
        ...certBody(),
        fields: ['certificateChain', 'privateKey', 'body', 'name'],
        lookedUp: [name, safelyDecoded(name)],
        emptyParameter: name === '',
        app: certsApp,
      });
    } else {
      inputs.push({
        route: 'POST certs',
        method: 'POST',
        path: `/apps/${certsApp}/certs`,
        ...certBody(),
        fields: ['certificateChain', 'privateKey', 'body'],
        app: certsApp,
      });
    }
  }

  // Exact counts of what each input appended: the store's append is wrapped, and each input runs in
  // its own async context, which follows it through the handlers into the store.
  const store = cloud.ports.events;
  const originalAppend = store.append.bind(store);
  const inputOf = new AsyncLocalStorage<number>();
  const appendedBy = new Map<number, number>();
  let appendedUnattributed = 0;
  store.append = async (writes, context) => {
    const recorded = await originalAppend(writes, context);
    const index = inputOf.getStore();
    if (index === undefined) appendedUnattributed += recorded.length;
    else appendedBy.set(index, (appendedBy.get(index) ?? 0) + recorded.length);
    return recorded;
  };
  const eventsBefore = await countItems(cloud, 'Events');

  const wrong: string[] = [];
  const accepted: Array<{ app: string; hostname: string }> = [];
  const removed = new Set<string>();
  const byStatus = new Map<string, number>();
  let acceptedCount = 0;
  try {
    await pool(inputs, 8, async (input, index) => {
      const answer = await inputOf.run(index, () =>
        api.call(input.method, input.path, undefined, tokens[index % tokens.length], input.body ?? ''),
      );
      const key = `${input.route} ${answer.status}`;
      byStatus.set(key, (byStatus.get(key) ?? 0) + 1);
      const message: string = answer.body?.error?.message ?? '';
      const show = () =>
        `${input.method} ${input.path.slice(0, 120)} ${JSON.stringify((input.body ?? '').slice(0, 120))} -> ${answer.status} ${answer.text.slice(0, 200)}`;
      if (answer.status >= 500) wrong.push(`5xx: ${show()}`);
      else if (answer.status >= 400) {
        const namesField = input.fields.some((field) => message.startsWith(`${field}: `) || message.startsWith(`${field}.`));
        const namesValue = answer.status === 404 && (input.lookedUp ?? []).some((value) => value !== '' && message.includes(value));
        const noRoute = answer.status === 404 && input.emptyParameter === true && message.startsWith('no route ');
        if (!namesField && !namesValue && !noRoute) wrong.push(`4xx without the field: ${show()}`);
        if ((appendedBy.get(index) ?? 0) > 0) wrong.push(`refused, yet ${appendedBy.get(index)} events appended: ${show()}`);
      } else {
        acceptedCount++;
        if (input.route === 'POST domains' || input.route === 'DELETE domain') {
          const returned = answer.body?.hostname;
          // Lower-case ASCII labels, no trailing dot, a fixed point of the rules, and what the input normalises to.
          const expected = typeof input.hostname === 'string' ? checkHostname(input.hostname) : undefined;
          const again = typeof returned === 'string' ? checkHostname(returned) : undefined;
          const normalised =
            typeof returned === 'string' &&
            /^(?:(?!-)[a-z0-9-]{1,63}(?<!-)\.)+(?!-)[a-z0-9-]{1,63}(?<!-)$/.test(returned) &&
            returned.length <= 253 &&
            again?.valid === true &&
            again.hostname === returned &&
            (expected === undefined || (expected.valid && expected.hostname === returned));
          if (!normalised) wrong.push(`accepted without a normalised name: ${show()}`);
          if (input.route === 'POST domains' && typeof returned === 'string') accepted.push({ app: input.app, hostname: returned });
          if (input.route === 'DELETE domain' && typeof returned === 'string') removed.add(`${input.app} ${returned}`);
        }
      }
      if ((index + 1) % Math.max(1, Math.floor(inputs.length / 5)) === 0) progress(`fuzz: ${index + 1}/${inputs.length} inputs`);
    });
  } finally {
    store.append = originalAppend;
  }
  const eventsAfter = await countItems(cloud, 'Events');
  const attributed = [...appendedBy.values()].reduce((sum, count) => sum + count, 0);
  if (eventsAfter - eventsBefore !== attributed + appendedUnattributed) {
    wrong.push(`the table grew by ${eventsAfter - eventsBefore} events, the store saw ${attributed + appendedUnattributed} appended`);
  }
  progress(
    `fuzz: answers ${[...byStatus]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, count]) => `${key}: ${count}`)
      .join(', ')}`,
  );

  // What was accepted is in the app's log, once.
  let lost = 0;
  let duplicated = 0;
  const failures: string[] = [];
  for (const app of [...apps, certsApp]) {
    const log = await store.read<AppEvent>(streamIds.app(app));
    const state = foldApp(log);
    const attached = new Set<string>();
    for (const event of log) {
      if (event.type === 'DomainAttached') {
        if (attached.has(event.data.hostname)) {
          duplicated++;
          failures.push(`duplicated: ${app} attached ${event.data.hostname} twice`);
        }
        attached.add(event.data.hostname);
      }
      if (event.type === 'DomainDetached') attached.delete(event.data.hostname);
    }
    for (const { hostname } of accepted.filter((domain) => domain.app === app)) {
      if (!removed.has(`${app} ${hostname}`) && !state.domains.includes(hostname)) {
        lost++;
        failures.push(`lost: ${hostname} accepted for ${app}, not in its log`);
      }
    }
  }
  const shown = new Map<string, number>();
  for (const line of wrong) {
    const kind = line.slice(0, line.indexOf(':'));
    shown.set(kind, (shown.get(kind) ?? 0) + 1);
    if (VERBOSE || shown.get(kind)! <= 8) failures.push(`wrong state: ${line}`);
  }
  for (const [kind, count] of shown) if (!VERBOSE && count > 8) failures.push(`wrong state: ... ${count - 8} more "${kind}"`);
  return { runs: inputs.length, issued: acceptedCount, lost, duplicated, orphaned: 0, wrong_state: wrong.length, failures };
}

/** As it is, but for what would end the path segment (`/`, `?`, `#`): `%`, spaces and control characters stay raw. */
function unencoded(text: string): string {
  return text.replace(/[/?#]/g, (character) => encodeURIComponent(character));
}

/** As a client puts it in a path; a lone surrogate (which encodeURIComponent refuses) goes as it is. */
function encoded(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return text;
  }
}

function safelyDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

async function countItems(cloud: LocalCloud, table: string): Promise<number> {
  const client = new DynamoDBClient(localClientConfig(cloud.dynamodbEndpoint));
  try {
    let count = 0;
    let ExclusiveStartKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await client.send(new ScanCommand({ TableName: table, Select: 'COUNT', ExclusiveStartKey }));
      count += page.Count ?? 0;
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return count;
  } finally {
    client.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// events

type PlatformDetailType = 'DomainAdded' | 'DomainRemoved' | 'AppDeleted' | 'DatabaseAdded' | 'DatabaseRemoved';

/** One platform event, in a namespace-free form: `app` is an index, made into a name per namespace. */
interface PlatformEventTemplate {
  index: number;
  detailType: PlatformDetailType;
  app: number;
  hostname?: number;
  database?: number;
  occurredAt: string;
}

const HOSTNAMES_PER_APP = 8;
const DATABASES_PER_APP = 3;
const appName = (namespace: string, app: number) => `${namespace}-a${app}`;
const hostnameOf = (namespace: string, app: number, hostname: number) => `h${hostname}.${appName(namespace, app)}.test`;

/** A plausible history: domains and databases come and go (now and then a stray removal or a repeated add), some apps are deleted. */
function platformHistory(random: () => number, count: number, apps: number): PlatformEventTemplate[] {
  const start = Date.parse('2026-12-01T00:00:00.000Z');
  const present = new Set<string>();
  const deleted = new Set<number>();
  const events: PlatformEventTemplate[] = [];
  for (let index = 0; events.length < count; index++) {
    const live = Array.from({ length: apps }, (_, app) => app).filter((app) => !deleted.has(app));
    if (live.length === 0) break;
    const app = live[Math.floor(random() * live.length)]!;
    const occurredAt = new Date(start + index * 1000).toISOString();
    const roll = random();
    if (roll < 0.006) {
      deleted.add(app);
      events.push({ index: events.length, detailType: 'AppDeleted', app, occurredAt });
    } else if (roll < 0.7) {
      const hostname = Math.floor(random() * HOSTNAMES_PER_APP);
      const key = `h ${app} ${hostname}`;
      const add = present.has(key) ? random() < 0.2 : random() < 0.85;
      if (add) present.add(key);
      else present.delete(key);
      events.push({ index: events.length, detailType: add ? 'DomainAdded' : 'DomainRemoved', app, hostname, occurredAt });
    } else {
      const database = Math.floor(random() * DATABASES_PER_APP);
      const key = `d ${app} ${database}`;
      const add = present.has(key) ? random() < 0.2 : random() < 0.85;
      if (add) present.add(key);
      else present.delete(key);
      events.push({ index: events.length, detailType: add ? 'DatabaseAdded' : 'DatabaseRemoved', app, database, occurredAt });
    }
  }
  return events;
}

function platformDetail(namespace: string, event: PlatformEventTemplate): Record<string, unknown> {
  return {
    eventId: `${namespace}-${event.index}`,
    app: appName(namespace, event.app),
    ...(event.hostname !== undefined && { hostname: hostnameOf(namespace, event.app, event.hostname) }),
    ...(event.database !== undefined && { database: `db${event.database}`, port: 5432 + event.database }),
    occurredAt: event.occurredAt,
  };
}

/** The final state of a namespace, read from the log folds, with the namespace taken out of every name. */
async function namespaceState(cloud: LocalCloud, namespace: string, apps: number): Promise<Map<string, string>> {
  const entries = new Map<string, string>();
  const strip = (text: string) => text.replaceAll(`${namespace}-`, 'NS-');
  for (let app = 0; app < apps; app++) {
    const name = appName(namespace, app);
    const state = foldApp(await cloud.ports.events.read<AppEvent>(streamIds.app(name)));
    entries.set(
      strip(`app ${name}`),
      strip(JSON.stringify({ deleted: state.deleted, domains: [...state.domains].sort(), databases: Object.keys(state.databases).sort() })),
    );
    const hostnames = [
      ...Array.from({ length: HOSTNAMES_PER_APP }, (_, hostname) => hostnameOf(namespace, app, hostname)),
      ...Array.from({ length: DATABASES_PER_APP }, (_, database) => `db${database}.${name}.${LOCAL_DATABASE_HOST_SUFFIX}`),
    ];
    for (const hostname of hostnames) {
      const state = fold(await cloud.ports.events.read<DomainEvent>(streamIds.domain(name, hostname)));
      entries.set(strip(`domain ${hostname}`), state.domain && !state.removed ? 'present' : 'absent');
    }
  }
  return entries;
}

/** What was sent about one hostname (NS- for the namespace) and what each namespace's log recorded. */
async function explainDifference(cloud: LocalCloud, history: PlatformEventTemplate[], hostname: string): Promise<string[]> {
  const [, label, app] = /^(h\d+|db\d+)\.NS-a(\d+)\./.exec(hostname) ?? [];
  const sent = history
    .filter(
      (event) =>
        event.app === Number(app) &&
        (`h${event.hostname}` === label || `db${event.database}` === label || event.detailType === 'AppDeleted'),
    )
    .map((event) => `#${event.index} ${event.detailType} ${event.occurredAt.slice(11, 19)}`);
  const lines = [`  sent about ${hostname}: ${sent.join(', ')}`];
  for (const namespace of ['evo', 'evs']) {
    const name = hostname.replace('NS-', `${namespace}-`);
    const log = await cloud.ports.events.read<DomainEvent>(streamIds.domain(`${namespace}-a${app}`, name));
    const shown = log.map(
      (event) => `${event.type}${'platformEventTime' in event.data ? ` ${String(event.data.platformEventTime).slice(11, 19)}` : ''}`,
    );
    lines.push(`  ${namespace} log: ${shown.join(', ') || '(empty)'}`);
  }
  return lines;
}

async function platformEvents(run: Run): Promise<Outcome> {
  const { cloud, api } = run;
  const random = seededRandom(SEED + 1);
  const history = platformHistory(random, SIZES.platformEvents, SIZES.eventApps);
  const [inOrder, shuffled] = ['evo', 'evs'];
  // Automation off for every app of both namespaces (enabling first creates the app): nothing is issued.
  for (const namespace of [inOrder!, shuffled!]) {
    for (let app = 0; app < SIZES.eventApps; app++) {
      await api.ok('POST', `/apps/${appName(namespace, app)}/acm`);
      await api.ok('DELETE', `/apps/${appName(namespace, app)}/acm`);
    }
  }
  const failures: string[] = [];
  let answered = 0;
  const deliver = async (namespace: string, event: PlatformEventTemplate) => {
    for (let tries = 1; ; tries++) {
      try {
        run.platformAnswers.push(await cloud.firePlatformEvent(event.detailType, platformDetail(namespace, event)));
        answered++;
        return;
      } catch (error) {
        // EventBridge retries a Lambda that throws; so does this delivery, a few times.
        if (tries >= 3) {
          failures.push(`${namespace}-${event.index} (${event.detailType}) failed ${tries} times: ${String(error)}`);
          return;
        }
      }
    }
  };
  for (const event of history) await deliver(inOrder!, event);
  progress(`events: ${history.length} delivered in order`);
  // Shuffled (Fisher-Yates), with a quarter of them delivered again, four at a time.
  const deliveries = [...history, ...history.filter(() => random() < 0.25)];
  for (let index = deliveries.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [deliveries[index], deliveries[other]] = [deliveries[other]!, deliveries[index]!];
  }
  await pool(deliveries, 4, (event) => deliver(shuffled!, event));
  progress(`events: ${deliveries.length} delivered shuffled, ${deliveries.length - history.length} of them again`);

  const expected = await namespaceState(cloud, inOrder!, SIZES.eventApps);
  const actual = await namespaceState(cloud, shuffled!, SIZES.eventApps);
  let lost = 0;
  let orphaned = 0;
  let wrong = 0;
  for (const [key, value] of expected) {
    const other = actual.get(key);
    if (other === value) continue;
    wrong++;
    if (value === 'present' && other === 'absent') lost++;
    if (value === 'absent' && other === 'present') orphaned++;
    failures.push(`${key}: in order ${value}, shuffled ${other}`);
    if (VERBOSE && key.startsWith('domain ')) failures.push(...(await explainDifference(cloud, history, key.slice('domain '.length))));
  }
  let duplicated = 0;
  for (const event of history) {
    const receipts = await cloud.ports.events.read(streamIds.receipt(`${shuffled}-${event.index}`));
    if (receipts.length > 1) {
      duplicated++;
      failures.push(`receipt of ${shuffled}-${event.index} recorded ${receipts.length} times`);
    }
  }
  const present = [...expected.values()].filter((value) => value === 'present').length;
  progress(`events: ${expected.size} things compared (${present} present after in-order delivery)`);
  return { runs: history.length, issued: answered, lost, duplicated, orphaned, wrong_state: wrong, failures };
}

// ---------------------------------------------------------------------------------------------
// keys

async function keys(run: Run): Promise<Outcome> {
  const { cloud, api } = run;
  const failures: string[] = [];
  // Alone (--scenarios keys), the run has issued nothing yet: issue one certificate, so there is a key to look for.
  if (run.issuedHostnames.size === 0) {
    const hostname = 'www.keys.test';
    cloud.dns.zone.set(hostname, 'CNAME', [`keys.${LOCAL_DNS_TARGET_SUFFIX}`]);
    await api.ok('POST', '/apps/keys/domains', { hostname });
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(200)) {
      const row = ((await api.ok('GET', '/apps/keys/acm')).domains as Array<{ hostname: string; status: string }>).find(
        (domain) => domain.hostname === hostname,
      );
      if (row?.status === 'Cert Issued') break;
    }
    run.issuedHostnames.add(hostname);
  }
  const managedKeys: string[] = [];
  for (const hostname of new Set((await storedCertificates(cloud)).map((record) => record.hostname))) {
    const found = await cloud.certificates.findForHostname(hostname);
    if (found && run.issuedHostnames.has(hostname)) managedKeys.push(found.privateKeyPem);
  }
  const accountKey = await readFile(join(cloud.dataDir, 'acme-account-key.pem'), 'utf8').catch(() => undefined);
  const searched = [...managedKeys, ...run.uploadedKeys, ...(accountKey ? [accountKey] : [])];
  if (managedKeys.length === 0) failures.push('no installed certificate to look for');

  // Read the answers before the tables: a GET of a timeline is an answer too.
  for (const hostname of [...run.issuedHostnames].slice(0, 5)) {
    const app = hostname.split('.')[1]!;
    await api.call('GET', `/apps/${app}/domains/${hostname}/events`);
  }
  const places: Record<string, string> = {
    'what the run logged (stdout and stderr)': output.join(''),
    'the DynamoDB tables': JSON.stringify(await scanAllTables(cloud.dynamodbEndpoint)),
    'API answers': JSON.stringify(api.answers),
    'platform-event answers': JSON.stringify(run.platformAnswers),
    'workflow inputs, outputs and errors': JSON.stringify(workflowRecords(cloud.workflows)),
  };
  for (const [where, text] of Object.entries(places)) if (text.length <= 2) failures.push(`${where}: nothing was captured`);
  const holding = placesHoldingKeys(places, searched);
  for (const line of holding) failures.push(`wrong state: ${line}`);
  progress(
    `keys: ${searched.length} private keys looked for in ${Object.keys(places).length} places (${(places['the DynamoDB tables']!.length / 1e6).toFixed(1)} MB of tables)`,
  );
  return { runs: searched.length, issued: managedKeys.length, lost: 0, duplicated: 0, orphaned: 0, wrong_state: holding.length, failures };
}

// kill: for every Task state of the issuance workflow (and once between the certificate import
// and its record), a local cloud of its own, in a process of its own, kills its whole process
// group (SIGKILL: Pebble and DynamoDB Local die too) right after that state's handler ran; it is
// started again on the same folder and the reconciler finishes the attempt.
//   runs        states killed at.
//   issued      domains that reached Cert Issued after the restart.
//   lost        domains that did not, within a minute.
//   duplicated  an order URL recorded twice, more than one CertificateInstalled, or a version gap.
//   orphaned    certificates in the store that no CertificateInstalled names.
//   wrong_state the status the restarted cloud shows differs from the status folded from the log.
// Pebble forgets everything when it is killed (as a CA-side reset would): the order made before
// the kill is gone, so the attempt orders again (OrderForgottenByCa). Not a duplicate.
async function kill(): Promise<Outcome> {
  const points = [...Object.keys(ISSUANCE_STEPS), AFTER_IMPORT];
  const counts: Counts = { runs: 0, issued: 0, lost: 0, duplicated: 0, orphaned: 0, wrong_state: 0 };
  const failures: string[] = [];
  for (const point of points) {
    const dataDir = await mkdtemp(join(tmpdir(), `reliability-kill-${point}-`));
    const hostname = `${point.toLowerCase()}.kill.test`;
    // RecordFailure runs only after a failure: the name points nowhere until the restart.
    const failsFirst = point === 'RecordFailure';
    const crashing = startCloudProcess({ dataDir, app: 'kill', hostnames: failsFirst ? [] : [hostname], killAtState: point });
    try {
      const first = await crashing.ready;
      await callCloud(first, 'POST', '/apps/kill/domains', { hostname });
      await Promise.race([crashing.exited, sleep(30_000).then(() => crashing.kill())]);
      await crashing.exited;
      counts.runs++;
      const restarted = startCloudProcess({ dataDir, app: 'kill', hostnames: [hostname] });
      try {
        const ready = await restarted.ready;
        let row: { status?: string } | undefined;
        for (const deadline = Date.now() + 60_000; Date.now() < deadline && row?.status !== 'Cert Issued'; await sleep(100)) {
          row = ((await callCloud(ready, 'GET', '/apps/kill/acm')).domains as Array<{ hostname: string; status: string }>).find(
            (domain) => domain.hostname === hostname,
          );
        }
        if (row?.status === 'Cert Issued') counts.issued++;
        else {
          counts.lost++;
          failures.push(`${point}: ${hostname} ended ${JSON.stringify(row)}`);
        }
        const events = (await callCloud(ready, 'GET', `/apps/kill/domains/${hostname}/events`)) as Array<RecordedEvent<DomainEvent>>;
        const orderUrls = events.flatMap((event) => (event.type === 'OrderCreated' ? [event.data.orderUrl] : []));
        const installs = events.filter((event) => event.type === 'CertificateInstalled');
        const gapless = events.every((event, index) => event.version === index + 1);
        if (new Set(orderUrls).size !== orderUrls.length || installs.length > 1 || !gapless) {
          counts.duplicated++;
          failures.push(`${point}: ${events.map((event) => event.type).join(' ')}`);
        }
        const named = new Set(installs.map((event) => (event.type === 'CertificateInstalled' ? event.data.certificateArn : '')));
        const stored = await storedRecords(dataDir);
        const orphans = stored.filter((record) => record.hostname === hostname && !named.has(record.certificateArn));
        counts.orphaned += orphans.length;
        if (orphans.length > 0) failures.push(`${point}: orphaned ${orphans.map((record) => record.certificateArn).join(', ')}`);
        const folded = certificateStatus(fold(events.map(({ type, data, at }) => ({ type, data, at }) as DomainEvent & { at: string })));
        if (folded?.status !== row?.status) {
          counts.wrong_state++;
          failures.push(`${point}: shown ${row?.status}, the log says ${folded?.status}`);
        }
      } finally {
        restarted.kill();
        await restarted.exited;
      }
    } finally {
      crashing.kill();
      await crashing.exited;
      await rm(dataDir, { recursive: true, force: true });
    }
    progress(`kill: ${point} done`);
  }
  return { ...counts, failures };
}

async function callCloud(ready: CloudProcessReady, method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${ready.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${ready.operatorToken}`, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  if (response.status >= 300) throw new Error(`${method} ${path} answered ${response.status}: ${await response.text()}`);
  return response.json();
}

/** The certificate store's records in a data folder (their hostnames and ARNs are in clear; keys are sealed). */
async function storedRecords(dataDir: string): Promise<Array<{ certificateArn: string; hostname: string }>> {
  const directory = join(dataDir, 'certificates');
  const entries = (await readdir(directory, { withFileTypes: true }).catch(() => [])).filter((entry) => entry.isDirectory());
  const records = await Promise.all(
    entries.map(async (entry) => JSON.parse(await readFile(join(directory, entry.name, CERTIFICATE_FILE), 'utf8').catch(() => '{}'))),
  );
  return records.filter((record): record is { certificateArn: string; hostname: string } => typeof record.certificateArn === 'string');
}

// ---------------------------------------------------------------------------------------------

const RUNNERS: Record<ScenarioName, (run: Run) => Promise<Outcome>> = {
  kill,
  'ca-faults': caFaults,
  writers,
  fuzz,
  events: platformEvents,
  keys,
};

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-reliability-'));
  progress(`starting the local cloud in ${dataDir} (${QUICK ? 'quick' : 'full'} run, seed ${SEED})`);
  const cloud = await startLocalCloud({
    dataDir,
    settings: {
      // Retries come quickly (each wait is rounded up to a whole second by the workflow), and
      // nothing gives up inside the run: a domain not issued at the end is what the counts say.
      retryPolicy: { firstRetryDelayMs: 250, maxRetryDelayMs: 2000, failingWindowMs: 30 * 60_000, notifyAfterMs: 24 * 60 * 60_000 },
      // Hundreds of orders in minutes: room in every bucket (the fault proxy enforces the same ones).
      // The exact-set bucket refills every 6 s: the ledger spends it when an order is sent and keeps
      // it when the try fails, so after the CA's rateLimited (which empties that bucket until
      // Retry-After) each failed try of that domain waits one refill before ordering again.
      rateLimits: {
        newOrdersPerAccount: { capacity: 100_000, periodMs: 3 * 60 * 60_000 },
        newOrdersPerApp: { capacity: 100_000, periodMs: 3 * 60 * 60_000 },
        certificatesPerRegisteredDomain: { capacity: 100_000, periodMs: 7 * 24 * 60 * 60_000 },
        certificatesPerExactSet: { capacity: 100_000, periodMs: 7 * 24 * 60 * 60_000 },
        failedAuthorizationsPerIdentifier: { capacity: 1_000, periodMs: 60 * 60_000 },
      },
    },
  });
  progress('the local cloud is up');
  const run: Run = { cloud, api: new Api(cloud), platformAnswers: [], uploadedKeys: [], issuedHostnames: new Set() };
  const lines: string[] = [];
  const missed: string[] = [];
  try {
    const scenarios: Array<[string, (run: Run) => Promise<Outcome>]> = SCENARIOS.filter((name) => SELECTED.includes(name)).map((name) => [
      name,
      RUNNERS[name],
    ]);
    for (const [name, scenario] of scenarios) {
      const begun = performance.now();
      progress(`${name}: start`);
      const outcome = await scenario(run);
      const { failures, runs, issued, lost, duplicated, orphaned, wrong_state } = outcome;
      lines.push(
        `reliability ${name}: runs=${runs} issued=${issued} lost=${lost} duplicated=${duplicated} orphaned=${orphaned} wrong_state=${wrong_state}`,
      );
      for (const note of outcome.notes ?? []) progress(`${name}: ${note}`);
      for (const failure of failures) progress(`${name}: ${failure}`);
      if (failures.length > 0) missed.push(name);
      progress(
        `${name}: done in ${((performance.now() - begun) / 1000).toFixed(1)} s${failures.length > 0 ? ` (${failures.length} findings above)` : ''}`,
      );
    }
  } finally {
    await cloud.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
  progress(`whole run ${elapsed()}${missed.length > 0 ? `; not as expected: ${missed.join(', ')}` : ''}`);
  for (const line of lines) process.stdout.write(`${line}\n`);
  if (missed.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
