// `npm run bench [-- N CONCURRENCY] [-- --profile]`: N certificates through the whole workflow
// (domain added -> "Cert Issued" visible in the status projection), then N with bare
// acme-client against the same Pebble, and the two side by side; what one certificate
// costs (states, Lambda calls, DynamoDB writes); the status of an app with 100 domains;
// each function's bundle. `--profile` adds where the workflow's time goes.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import acme from 'acme-client';
import { automationStatus } from '../functions/application/apps.ts';
import { streamIds } from '../functions/domain/events.ts';
import { LOCAL_DNS_TARGET_SUFFIX, startLocalCloud, type LocalCloud } from '../infra/local/cloud.ts';
import { Profiler } from '../infra/local/profiler.ts';
import { measureBundles, printBundles } from './bundles.ts';
import { mean, median, percentile } from './stats.ts';

const flags = process.argv.slice(2).filter((arg) => arg.startsWith('--'));
const [count = 20, concurrency = 5] = process.argv
  .slice(2)
  .filter((arg) => !arg.startsWith('--'))
  .map(Number);
const profiling = flags.includes('--profile');
/** Skips `cdk synth` and the bundles' figures (20 s): for a quick look at the workflow. */
const withBundles = !flags.includes('--no-bundles');
/** 40 requests a second per token, under the local throttle's 50. */
const POLL_MS = 25;
const STATUS_DOMAINS = 100;
const STATUS_READS = 50;

interface Run {
  latenciesMs: number[];
  wallMs: number;
}

/** Runs `task` for 0..count-1, `concurrency` at a time, timing each. */
async function timed(task: (index: number) => Promise<void>): Promise<Run> {
  const latenciesMs: number[] = [];
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const begun = performance.now();
      await task(index);
      latenciesMs.push(performance.now() - begun);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latenciesMs, wallMs: performance.now() - started };
}

/** When each phase of one certificate happened, on this process's clock (performance.now()). */
interface Milestones {
  added?: number;
  installed?: number;
  projected?: number;
  seen?: number;
}
const milestones = new Map<string, Milestones>();
/** Stream reads by kind of stream (domain, bucket, app, ...): who reads the log how often. */
const streamReads = new Map<string, number>();
const milestone = (hostname: string) => milestones.get(hostname) ?? milestones.set(hostname, {}).get(hostname)!;

/** One app per domain, each with its own token: polling stays inside the API's per-token throttle. */
async function throughWorkflow(cloud: LocalCloud, index: number): Promise<void> {
  const app = `bench-${index}`;
  const hostname = `wf${index}.bench.test`;
  cloud.dns.zone.set(hostname, 'CNAME', [`${app}.${LOCAL_DNS_TARGET_SUFFIX}`]);
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${cloud.tokens.forApps(app)}` };
  milestone(hostname).added = performance.now();
  const added = await fetch(`${cloud.apiUrl}/apps/${app}/domains`, { method: 'POST', headers, body: JSON.stringify({ hostname }) });
  if (added.status !== 201) throw new Error(`adding ${hostname}: ${added.status} ${await added.text()}`);
  for (;;) {
    const answer = await fetch(`${cloud.apiUrl}/apps/${app}/acm`, { headers });
    if (answer.status !== 200) throw new Error(`status of ${app}: ${answer.status} ${await answer.text()}`);
    const { domains } = (await answer.json()) as { domains: Array<{ hostname: string; status: string; message?: string }> };
    const domain = domains.find((candidate) => candidate.hostname === hostname);
    if (domain?.status === 'Cert Issued') {
      milestone(hostname).seen = performance.now();
      return;
    }
    if (domain?.status === 'Failing' || domain?.status === 'Failed') throw new Error(`${hostname}: ${domain.status} ${domain.message}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function withBareAcmeClient(cloud: LocalCloud, client: acme.Client, index: number): Promise<void> {
  const hostname = `bare${index}.bench.test`;
  cloud.dns.zone.set(hostname, 'A', ['127.0.0.1']);
  const [, csr] = await acme.crypto.createCsr({ commonName: hostname, altNames: [hostname] }, await acme.crypto.createPrivateEcdsaKey());
  const challenges = cloud.ports.challenges;
  await client.auto({
    csr,
    termsOfServiceAgreed: true,
    challengePriority: ['http-01'],
    // acme-client's own pre-check resolves with the system resolver, which knows no local zone.
    skipChallengeVerification: true,
    challengeCreateFn: (_authz, challenge, keyAuthorization) => challenges.publish(challenge.token, keyAuthorization, new Date()),
    challengeRemoveFn: async () => {},
  });
}


interface HistoryEntry {
  type: string;
  timestamp: number;
  state?: { name: string; type: string };
}

/** States entered and Task (Lambda) calls per execution, and the time spent in each state, from the runner's history. */
function executionFigures(cloud: LocalCloud) {
  const executions = [...cloud.workflows.executions.values()].filter((execution) => execution.input.hostname.startsWith('wf'));
  const inState = new Map<string, number[]>();
  let states = 0;
  let tasks = 0;
  for (const execution of executions) {
    const entered = new Map<string, number>();
    for (const entry of execution.history as HistoryEntry[]) {
      if (!entry.state) continue;
      if (entry.type === 'StateEntered') {
        states++;
        if (entry.state.type === 'Task') tasks++;
        entered.set(entry.state.name, entry.timestamp);
      }
      if (entry.type === 'StateExited' && entered.has(entry.state.name)) {
        const spent = inState.get(entry.state.name) ?? [];
        spent.push(entry.timestamp - entered.get(entry.state.name)!);
        inState.set(entry.state.name, spent);
      }
    }
  }
  return { executions: executions.length, states, tasks, inState };
}

function printProfile(cloud: LocalCloud, profiler: Profiler, executions: number): void {
  const { inState } = executionFigures(cloud);
  console.log('\nProfile: where the workflow spends a certificate (means over the run; I/O sums concurrent calls)');
  console.log('  per state (time inside it, from the runner history):');
  for (const [name, spent] of inState)
    console.log(`    ${name.padEnd(28)}${mean(spent).toFixed(1).padStart(8)} ms  x${(spent.length / executions).toFixed(1)}`);
  console.log('  per I/O (calls and time per certificate):');
  for (const { name, calls, ms } of profiler.totals()) {
    console.log(`    ${name.padEnd(40)}${(calls / executions).toFixed(1).padStart(6)} calls${(ms / executions).toFixed(1).padStart(9)} ms`);
  }
  console.log('  stream reads (per certificate):');
  for (const [kind, reads] of [...streamReads].sort((a, b) => b[1] - a[1]))
    console.log(`    ${kind.padEnd(40)}${(reads / executions).toFixed(1).padStart(6)}`);
  const phases = [...milestones.values()].filter((phase) => phase.added && phase.installed && phase.projected && phase.seen);
  const phase = (name: string, from: keyof Milestones, to: keyof Milestones) =>
    console.log(
      `    ${name.padEnd(40)}${mean(phases.map((times) => times[to]! - times[from]!))
        .toFixed(1)
        .padStart(8)} ms`,
    );
  console.log('  phases (per certificate):');
  phase('added -> certificate installed', 'added', 'installed');
  phase('installed -> status row (projector lag)', 'installed', 'projected');
  phase("status row -> seen by the client's poll", 'projected', 'seen');
}

/** An app with 100 domains (automation off: nothing issues), its status read in-process: one Query is the goal. */
async function statusQuery(cloud: LocalCloud, profiler: Profiler): Promise<{ medianMs: number; queries: number }> {
  const app = 'bench-status';
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${cloud.tokens.forApps(app)}` };
  // Recorded first (an app is seen when automation is turned on), then turned off.
  for (const method of ['POST', 'DELETE']) {
    const answer = await fetch(`${cloud.apiUrl}/apps/${app}/acm`, { method, headers });
    if (answer.status !== 202) throw new Error(`${method} /apps/${app}/acm: ${answer.status} ${await answer.text()}`);
  }
  for (let index = 0; index < STATUS_DOMAINS; index++) {
    const body = JSON.stringify({ hostname: `d${index}.status.bench.test` });
    const added = await fetch(`${cloud.apiUrl}/apps/${app}/domains`, { method: 'POST', headers, body });
    if (added.status !== 201) throw new Error(`adding a domain to ${app}: ${added.status} ${await added.text()}`);
  }
  const deadline = Date.now() + 30_000;
  while ((await automationStatus(cloud.ports, app)).domains.length < STATUS_DOMAINS) {
    if (Date.now() > deadline) throw new Error(`${app}: the status projection did not show ${STATUS_DOMAINS} domains`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const timings: number[] = [];
  profiler.reset();
  for (let read = 0; read < STATUS_READS; read++) {
    const started = performance.now();
    await automationStatus(cloud.ports, app);
    timings.push(performance.now() - started);
  }
  return { medianMs: median(timings), queries: profiler.count('dynamodb') / STATUS_READS };
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-'));
  const profiler = new Profiler();
  profiler.watch(({ area, method, args, endedAt }) => {
    if (area === 'statuses' && method === 'save') {
      const row = args[1] as { hostname: string; status: string };
      if (row.status === 'Cert Issued') milestone(row.hostname).projected ??= endedAt;
    }
    if (area === 'events' && (method === 'read' || method === 'readLast')) {
      const kind = `events.${method} of ${String(args[0]).split('#')[0]} streams`;
      streamReads.set(kind, (streamReads.get(kind) ?? 0) + 1);
    }
    if (area === 'events' && method === 'append') {
      for (const { streamId, events } of args[0] as Array<{ streamId: string; events: Array<{ type: string }> }>) {
        const hostname = streamIds.domainOf(streamId)?.hostname;
        if (hostname && events.some((event) => event.type === 'CertificateInstalled')) milestone(hostname).installed ??= endedAt;
      }
    }
  });
  const cloud = await startLocalCloud({ dataDir, profiler });
  try {
    console.log(`Issuing ${count} certificates, ${concurrency} at a time, each way, against one local Pebble.\n`);
    profiler.reset();
    streamReads.clear();
    const workflow = await timed((index) => throughWorkflow(cloud, index));
    const perCertificate = executionFigures(cloud);
    const writes = profiler.dynamodbWrites();
    if (profiling) printProfile(cloud, profiler, perCertificate.executions);

    const client = new acme.Client({
      // Through the same fault proxy (injecting nothing) as the workflow, for a like-for-like figure.
      directoryUrl: cloud.acmeFaults.directoryUrl,
      accountKey: await acme.crypto.createPrivateEcdsaKey(),
      backoffMin: 100,
      backoffMax: 1000,
    });
    // Registered up front: concurrent auto() calls would each try to register it.
    await client.createAccount({ termsOfServiceAgreed: true });
    const bare = await timed((index) => withBareAcmeClient(cloud, client, index));
    const status = await statusQuery(cloud, profiler);

    const row = (name: string, run: Run) =>
      `${name.padEnd(34)}${median(run.latenciesMs).toFixed(0).padStart(10)}${percentile(run.latenciesMs, 95).toFixed(0).padStart(10)}${(count / (run.wallMs / 1000)).toFixed(2).padStart(14)}`;
    console.log(`\n${''.padEnd(34)}${'median ms'.padStart(10)}${'p95 ms'.padStart(10)}${'certs/second'.padStart(14)}`);
    console.log(row('whole workflow (added -> issued)', workflow));
    console.log(row('bare acme-client (auto)', bare));
    console.log(
      `peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB (this process: workflow, API, projector; not the Java and Go children)`,
    );
    console.log(`status of an app with ${STATUS_DOMAINS} domains: ${status.queries.toFixed(1)} DynamoDB calls a read`);
    const bundles = withBundles ? await measureBundles() : undefined;
    if (bundles) printBundles(bundles);

    const executions = perCertificate.executions;
    console.log('');
    console.log(
      `bench ratio: median=${(median(workflow.latenciesMs) / median(bare.latenciesMs)).toFixed(2)} throughput=${(bare.wallMs / workflow.wallMs).toFixed(2)}`,
    );
    console.log(
      `bench per certificate: states=${(perCertificate.states / executions).toFixed(1)} lambda_calls=${(perCertificate.tasks / executions).toFixed(1)} dynamodb_writes=${(writes / executions).toFixed(1)}`,
    );
    if (bundles) console.log(`bench bundles: largest_kb=${Math.round(bundles.largestKb)} slowest_cold_ms=${Math.round(bundles.slowestColdMs)}`);
    console.log(`bench status query: median_ms=${status.medianMs.toFixed(2)}`);
  } finally {
    await cloud.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
