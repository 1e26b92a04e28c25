// `npm start`: the local cloud, then a demo of the main job. App `demo` gets custom
// domains; their status moves to "Cert Issued"; a curl command proves the result.
// Its database gets an enhanced certificate; a psql command with verify-full proves that.
import { join, relative } from 'node:path';
import { SETTLED_STATUSES, type DomainStatus } from '../../functions/domain/status.ts';
import { LOCAL_DNS_TARGET_SUFFIX, LOCAL_PLATFORM_EVENTS_PATH, startLocalCloud } from './cloud.ts';
import type { PostgresCluster } from './postgres.ts';

const DEMO_APP = 'demo';
const DEMO_DOMAINS = ['www.demo.test', 'shop.demo.test'];
const HAND_FIRED_DOMAIN = 'api.demo.test';
const DEMO_DATABASE = 'main';
const DEMO_TIMEOUT_MS = 60_000;

const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

async function main(): Promise<void> {
  const dataDir = process.env.LOCAL_CLOUD_DIR ?? join(process.cwd(), '.local-cloud');
  // The data folder carries over from the last run unless told to start empty.
  const fresh = process.argv.includes('--fresh') || process.env.LOCAL_CLOUD_FRESH === '1';
  console.log(
    `Starting the local cloud (DynamoDB Local, Pebble, DNS, router, API, workflows, PostgreSQL) in ${dataDir}${fresh ? ', emptied first' : ''}...`,
  );
  const started = Date.now();
  const cloud = await startLocalCloud({
    dataDir,
    fresh,
    apiPort: port('API_PORT', 3000),
    routerHttpPort: port('ROUTER_HTTP_PORT', 5002),
    routerHttpsPort: port('ROUTER_HTTPS_PORT', 8443),
    dnsPort: port('DNS_PORT', 5053),
    consolePort: port('CONSOLE_PORT', 3001),
  });
  const shutdown = async () => {
    console.log('\nStopping the local cloud...');
    await cloud.stop();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  console.log(`Ready in ${Date.now() - started} ms.`);
  console.log(`  API          ${cloud.apiUrl}`);
  // The operator token after the #: browsers never send the fragment, so it stays out of request logs.
  console.log(`  Console      ${cloud.console.url}/#token=${cloud.tokens.operator}`);
  console.log(`  Router       ${cloud.router.http.url} (HTTP-01), ${cloud.router.https.url} (HTTPS, SNI)`);
  console.log(`  DNS          ${cloud.dns.address}`);
  console.log(`  Pebble (CA)  ${cloud.pebble.directoryUrl}`);
  // The platform starts the app's database meanwhile; its failure is reported where it is awaited.
  const database = cloud.addDatabase(DEMO_APP, DEMO_DATABASE);
  database.catch(() => undefined);

  const dnsTarget = `${DEMO_APP}.${LOCAL_DNS_TARGET_SUFFIX}`;
  // api.demo.test points at the app too, ready for the platform event the closing lines show how to fire.
  for (const hostname of [...DEMO_DOMAINS, HAND_FIRED_DOMAIN]) cloud.dns.zone.set(hostname, 'CNAME', [dnsTarget]);
  console.log(`\nDNS: ${DEMO_DOMAINS.join(', ')} CNAME ${dnsTarget}. Adding them to app "${DEMO_APP}"...\n`);
  const issuing = Date.now();
  const demoToken = cloud.tokens.forApps(DEMO_APP);
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${demoToken}` };
  for (const hostname of DEMO_DOMAINS) {
    const response = await fetch(`${cloud.apiUrl}/apps/${DEMO_APP}/domains`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ hostname }),
    });
    if (response.status !== 201) throw new Error(`adding ${hostname} answered ${response.status}: ${await response.text()}`);
  }

  const statuses = await watchStatuses(cloud.apiUrl, headers, issuing);
  const issued = statuses.filter((status) => status.status === 'Cert Issued');
  console.log(`\n${issued.length} of ${DEMO_DOMAINS.length} certificates issued in ${Date.now() - issuing} ms.`);

  const httpsPort = cloud.router.https.port;
  const root = relative(process.cwd(), cloud.pebbleRootFile);
  console.log('\nSee a certificate served over HTTPS, verified against the CA (in another terminal):');
  for (const { hostname } of issued) {
    console.log(`  curl --resolve ${hostname}:${httpsPort}:127.0.0.1 --cacert ${root} https://${hostname}:${httpsPort}/`);
  }
  const { cluster, status } = await demoDatabase(cloud.apiUrl, headers, await database);
  console.log(
    `\nDatabase "${DEMO_DATABASE}" of app "${DEMO_APP}": enhanced certificate ${status.status}, serving the chain to ${status.servedRoot}.`,
  );
  console.log('Connect with sslmode=verify-full (the name and a trusted root are checked):');
  console.log(`  PGPASSWORD=${cluster.password} psql "${status.connectionUrl}&user=${cluster.user}"`);
  console.log('The previous URL (sslmode=require) keeps working:');
  console.log(`  PGPASSWORD=${cluster.password} psql "${status.previousConnectionUrl}&user=${cluster.user}"`);

  console.log('\nUse the CLI against it (the token covers app "demo"; an operator token follows):');
  console.log(`  export ACM_API_URL=${cloud.apiUrl} ACM_APP=${DEMO_APP} ACM_TOKEN=${demoToken}`);
  console.log('  npx acm certs:auto');
  console.log(`  npx acm domains:events ${DEMO_DOMAINS[0]}`);
  console.log(`  operator token: ${cloud.tokens.operator}`);
  console.log(`\nThe API contract: curl ${cloud.apiUrl}/openapi.json`);
  console.log(
    `Fire a platform event by hand: curl -X POST ${cloud.apiUrl}${LOCAL_PLATFORM_EVENTS_PATH} -H 'content-type: application/json' ` +
      `-d '{"detail-type":"DomainAdded","detail":{"eventId":"e-1","app":"${DEMO_APP}","hostname":"${HAND_FIRED_DOMAIN}"}}'`,
  );
  console.log('\nServing until Ctrl-C.');
}

/** Enables the demo database's enhanced certificate and waits until it is served. */
async function demoDatabase(apiUrl: string, headers: Record<string, string>, cluster: PostgresCluster) {
  const url = `${apiUrl}/apps/${DEMO_APP}/databases/${DEMO_DATABASE}/enhanced-certificates`;
  const enabled = await fetch(url, { method: 'POST', headers });
  if (enabled.status !== 202) throw new Error(`enabling the database's certificate answered ${enabled.status}: ${await enabled.text()}`);
  const deadline = Date.now() + DEMO_TIMEOUT_MS;
  for (;;) {
    const status = (await (await fetch(url, { headers })).json()) as DatabaseStatus;
    if (status.status === 'Cert Issued' || status.status === 'Failed') return { cluster, status };
    if (Date.now() > deadline) throw new Error(`the database's certificate did not settle within ${DEMO_TIMEOUT_MS} ms: ${status.status}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

interface DatabaseStatus {
  status: string;
  servedRoot?: string;
  connectionUrl: string;
  previousConnectionUrl: string;
}

/** Prints each domain's status as it changes, until every domain has settled. */
async function watchStatuses(apiUrl: string, headers: Record<string, string>, since: number): Promise<DomainStatus[]> {
  const shown = new Map<string, string>();
  const deadline = Date.now() + DEMO_TIMEOUT_MS;
  for (;;) {
    const { domains } = (await (await fetch(`${apiUrl}/apps/${DEMO_APP}/acm`, { headers })).json()) as { domains: DomainStatus[] };
    for (const domain of domains) {
      const line = `${domain.status}${domain.reason ? ` (${domain.reason}: ${domain.message})` : ''}`;
      if (shown.get(domain.hostname) === line) continue;
      shown.set(domain.hostname, line);
      console.log(`  +${String(Date.now() - since).padStart(5)} ms  ${domain.hostname.padEnd(18)} ${line}`);
    }
    if (domains.length === DEMO_DOMAINS.length && domains.every((domain) => SETTLED_STATUSES.includes(domain.status))) return domains;
    if (Date.now() > deadline) throw new Error(`domains did not settle within ${DEMO_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
