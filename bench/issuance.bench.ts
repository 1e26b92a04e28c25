// `npm run bench [-- N CONCURRENCY]`: N certificates through the whole workflow
// (domain added -> "Cert Issued" visible in the status projection), then N with bare
// acme-client against the same Pebble, and the two side by side.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import acme from 'acme-client';
import { LOCAL_DNS_TARGET_SUFFIX, startLocalCloud, type LocalCloud } from '../infra/local/cloud.ts';

const count = Number(process.argv[2] ?? 20);
const concurrency = Number(process.argv[3] ?? 5);
/** 40 requests a second per token, under the local throttle's 50. */
const POLL_MS = 25;

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

/** One app per domain, each with its own token: polling stays inside the API's per-token throttle. */
async function throughWorkflow(cloud: LocalCloud, index: number): Promise<void> {
  const app = `bench-${index}`;
  const hostname = `wf${index}.bench.test`;
  cloud.dns.zone.set(hostname, 'CNAME', [`${app}.${LOCAL_DNS_TARGET_SUFFIX}`]);
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${cloud.tokens.forApps(app)}` };
  const added = await fetch(`${cloud.apiUrl}/apps/${app}/domains`, { method: 'POST', headers, body: JSON.stringify({ hostname }) });
  if (added.status !== 201) throw new Error(`adding ${hostname}: ${added.status} ${await added.text()}`);
  for (;;) {
    const answer = await fetch(`${cloud.apiUrl}/apps/${app}/acm`, { headers });
    if (answer.status !== 200) throw new Error(`status of ${app}: ${answer.status} ${await answer.text()}`);
    const { domains } = (await answer.json()) as { domains: Array<{ hostname: string; status: string; message?: string }> };
    const domain = domains.find((candidate) => candidate.hostname === hostname);
    if (domain?.status === 'Cert Issued') return;
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

const median = (values: number[]) => percentile(values, 50);
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-'));
  const cloud = await startLocalCloud({ dataDir });
  try {
    console.log(`Issuing ${count} certificates, ${concurrency} at a time, each way, against one local Pebble.\n`);
    const workflow = await timed((index) => throughWorkflow(cloud, index));
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

    const row = (name: string, run: Run) =>
      `${name.padEnd(34)}${median(run.latenciesMs).toFixed(0).padStart(10)}${percentile(run.latenciesMs, 95).toFixed(0).padStart(10)}${(count / (run.wallMs / 1000)).toFixed(2).padStart(14)}`;
    console.log(`${''.padEnd(34)}${'median ms'.padStart(10)}${'p95 ms'.padStart(10)}${'certs/second'.padStart(14)}`);
    console.log(row('whole workflow (added -> issued)', workflow));
    console.log(row('bare acme-client (auto)', bare));
    console.log(
      `\nratio workflow / bare: median ${(median(workflow.latenciesMs) / median(bare.latenciesMs)).toFixed(2)}x, ` +
        `throughput ${(bare.wallMs / workflow.wallMs).toFixed(2)}x of bare`,
    );
    console.log(
      `peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB (this process: workflow, API, projector; not the Java and Go children)`,
    );
  } finally {
    await cloud.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
