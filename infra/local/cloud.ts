// The embedded local cloud: DynamoDB Local, Pebble, a DNS zone, the edge router,
// the API and its console page, the issuance workflow and PostgreSQL database hosts, all on 127.0.0.1, all running the definitions
// the CDK stack synthesizes and the handler files Lambda runs.
import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { LocalCertificateStore } from '../../functions/adapters/certificates/local-certificate-store.ts';
import { LocalDatabaseServers } from '../../functions/adapters/databases/local-database-servers.ts';
import { databaseHostname } from '../../functions/domain/database.ts';
import { LocalNotifications } from '../../functions/adapters/notifications/local-notifications.ts';
import { log } from '../../functions/handlers/observability.ts';
import { LocalWorkflows, type TaskHandler } from '../../functions/adapters/workflows/local-workflows.ts';
import { DEFAULT_SETTINGS, type Ports, type Settings } from '../../functions/application/ports.ts';
import { edgeSettings } from '../../functions/application/tls-policy.ts';
import type { RetryPolicy } from '../../functions/domain/certificate-decider.ts';
import type { Limits } from '../../functions/domain/rate-limits.ts';
import { signToken, verifyToken } from '../../functions/domain/tokens.ts';
import { PLATFORM_EVENTS_HANDLER, PROJECTOR_HANDLER, SWEEP_HANDLER } from '../api-routes.ts';
import { ISSUANCE_STEPS, VALIDATION_POLL_STATE } from '../workflows/issuance.ts';
import { startAcmeFaultProxy, type AcmeFaultProxy } from './acme-fault-proxy.ts';
import { loadApiDispatcher, startApiServer, type ApiDispatcher, type LocalServer } from './api-server.ts';
import { startConsoleServer } from './console/server.ts';
import { startDnsServer, type DnsServer } from './dns-server.ts';
import { startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local.ts';
import { startPebble, type Pebble } from './pebble.ts';
import { createPlatformCa, startPostgresCluster, type PlatformCa, type PostgresCluster } from './postgres.ts';
import { localClientConfig, localPorts, type LocalPortsConfig } from './local-ports.ts';
import { keptPort, reservePort } from './ports.ts';
import { startRouter, type Router } from './router.ts';
import type { Profiler } from './profiler.ts';
import { pollStream, type StreamConsumer, type StreamPoller } from './stream-poller.ts';
import { synthesize } from './synthesized.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const LOCAL_DNS_TARGET_SUFFIX = 'edge.localcloud.test';
/** Databases' hostnames: `<database>.<app>.db.localcloud.test`, in the local DNS zone. */
export const LOCAL_DATABASE_HOST_SUFFIX = 'db.localcloud.test';
export const LOCAL_PLATFORM_EVENTS_PATH = '/local/platform-events';
/** Where apps pointed before: a CNAME ending here is CNAME_TARGET_INCORRECT. */
export const LOCAL_LEGACY_TARGET_SUFFIX = 'legacy.localcloud.test';
/** This machine answers in milliseconds: poll the CA and give DNS up sooner than in AWS. */
const LOCAL_ACME_POLL_MS = 100;
const LOCAL_DNS_DEADLINE_MS = 1000;

export interface LocalCloudOptions {
  /** Where everything is kept: the log and projections, installed certificates and keys, databases. A restart carries on from it. */
  dataDir: string;
  /** Empties the data folder first. */
  fresh?: boolean;
  /** 0 picks a free port (tests); `npm start` uses fixed, documented ones. */
  apiPort?: number;
  routerHttpPort?: number;
  routerHttpsPort?: number;
  dnsPort?: number;
  /** The console page's port. */
  consolePort?: number;
  /** Settings that differ from the local defaults, e.g. a shortened failing window in tests. */
  settings?: { retryPolicy?: Partial<RetryPolicy>; renewalJitterSeconds?: number; rateLimits?: Partial<Limits> };
  certificateValidityPeriod?: number;
  /** How often the renewal and notification sweep runs; an hour in AWS. */
  sweepIntervalMs?: number;
  /** Whether the CA offers ACME Renewal Information, as Let's Encrypt does; default true. */
  renewalInfo?: boolean;
  /** The CA profile to order (`ACME_PROFILE` in AWS); one the CA does not offer stops the start. */
  acmeProfile?: string;
  /** Where each handler comes from; the TypeScript source unless told otherwise (e.g. the bundles `cdk synth` deploys). */
  handlerLoader?: HandlerLoader;
  /** Times the handlers' calls to DynamoDB, the CA, DNS and the stores (the bench's `--profile`). */
  profiler?: Profiler;
}

export interface LocalCloud {
  apiUrl: string;
  /** The console page: apps, timelines, executions, the ledger and notices (open it with `#token=` and an operator token). */
  console: LocalServer;
  dns: DnsServer;
  pebble: Pebble;
  /** Sits between the service and Pebble; `inject` makes the CA fail for real. */
  acmeFaults: AcmeFaultProxy;
  router: Router;
  workflows: LocalWorkflows;
  notifications: LocalNotifications;
  /** Delivers a platform event to the same handler EventBridge invokes (also: POST /local/platform-events). */
  firePlatformEvent(detailType: string, detail: Record<string, unknown>, time?: Date): Promise<unknown>;
  /** Runs the renewal and notification sweep now (it also runs on a timer). */
  sweep(): Promise<unknown>;
  /** Resolves once the projector has been handed everything appended before the call. */
  projectorCaughtUp(): Promise<void>;
  dispatch: ApiDispatcher;
  /** What the handlers run with: the log, the status table, the CA, ... */
  ports: Ports;
  /** DynamoDB Local, for a client of its own (with `localClientConfig`). */
  dynamodbEndpoint: string;
  dataDir: string;
  /** Where the local cloud installs certificates (ACM's stand-in). */
  certificates: LocalCertificateStore;
  /** Pebble's issuing roots (the default one and the alternate), written where `curl --cacert` and `sslrootcert=` can read them. */
  pebbleRootFile: string;
  /** The platform's own CA, which signs the certificate a database serves before (and after) enhanced certificates. */
  platformCa: PlatformCa;
  /** The platform's part: starts a PostgreSQL for the app's database, then tells the service (DatabaseAdded). */
  addDatabase(app: string, database: string): Promise<PostgresCluster>;
  /** Bearer tokens signed with this run's secret: all apps, or the apps named. */
  tokens: { operator: string; forApps(...apps: string[]): string };
  stop(): Promise<void>;
}

export async function startLocalCloud(options: LocalCloudOptions): Promise<LocalCloud> {
  const dataDir = options.dataDir;
  if (options.fresh) await rm(dataDir, { recursive: true, force: true });
  await mkdir(join(dataDir, 'dynamodb'), { recursive: true, mode: 0o700 });
  // The database servers run as the postgres user, who must pass through (not list) this folder;
  // what is secret inside is 0600 or in 0700 folders of its own.
  await chmod(dataDir, 0o711);
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((error: unknown) => console.error(`stopping: ${String(error)}`));
  };
  try {
    // Pebble must know the router's HTTP-01 port before the router starts: held until then.
    const reservedHttpPort = options.routerHttpPort ? undefined : await reservePort();
    stops.push(async () => reservedHttpPort?.release());
    const routerHttpPort = options.routerHttpPort || reservedHttpPort!.port;
    const dns = await startDnsServer({ port: options.dnsPort ?? 0, file: join(dataDir, 'dns-zone.json') });
    stops.push(() => dns.stop());
    dns.zone.set(`*.${LOCAL_DNS_TARGET_SUFFIX}`, 'A', ['127.0.0.1']);
    const starting = Promise.allSettled([
      startDynamoDbLocal({ dbPath: join(dataDir, 'dynamodb') }),
      startPebble({
        dataDir: join(dataDir, 'pebble'),
        dnsServer: dns.address,
        httpChallengePort: routerHttpPort,
        ...(options.certificateValidityPeriod && { certificateValidityPeriod: options.certificateValidityPeriod }),
      }),
    ] as const);
    let synthesized: ReturnType<typeof synthesize>;
    try {
      // Synthesis is CPU work in this process: do it while the Java and Go children boot.
      synthesized = synthesize(LOCAL_DNS_TARGET_SUFFIX, LOCAL_DATABASE_HOST_SUFFIX);
    } finally {
      // Whatever happened, every child that started gets stopped.
      for (const started of await starting) if (started.status === 'fulfilled') stops.push(() => started.value.stop());
    }
    const [dynamodbStart, pebbleStart] = await starting;
    if (dynamodbStart.status === 'rejected') throw dynamodbStart.reason;
    if (pebbleStart.status === 'rejected') throw pebbleStart.reason;
    const [dynamodb, pebble] = [dynamodbStart.value, pebbleStart.value];
    // The service talks to Pebble through a proxy that tests can make misbehave (rate limits, 5xx).
    // Pebble has no rate limits: the proxy enforces Let's Encrypt's, the same ones the ledger keeps to.
    const rateLimits: Limits = { ...DEFAULT_SETTINGS.rateLimits, ...options.settings?.rateLimits };
    const acmeFaults = await startAcmeFaultProxy({
      upstreamDirectoryUrl: pebble.directoryUrl,
      upstreamTlsCaPem: pebble.tlsCaPem,
      serverTls: pebble.serverTls,
      rateLimits,
      renewalInfo: options.renewalInfo ?? true,
      // The CA's address stays across restarts, as Let's Encrypt's does: order URLs in the log then reach
      // a CA that answers it no longer knows them (Pebble starts empty), not a closed port.
      port: await keptPort(join(dataDir, 'acme-port')),
    });
    stops.push(() => acmeFaults.stop());

    const tableNames = await createTables(dynamodb, synthesized.tables);
    // Tokens are signed with a secret kept in the folder, so printed tokens work after a restart.
    const apiTokenSecret = await keptSecret(join(dataDir, 'api-token-secret'));
    // Pebble makes new roots at every start; certificates issued before chain to earlier ones, which stay trusted here.
    const pebbleRootFile = join(dataDir, 'pebble-root.pem');
    const pebbleRootsPem = await accumulatedRoots(pebbleRootFile, await pebble.rootCertificatesPem());
    const platformCa = await createPlatformCa(join(dataDir, 'platform-ca'));
    const clusters = new Map<string, PostgresCluster>();
    stops.push(async () => {
      await Promise.all([...clusters.values()].map((cluster) => cluster.stop()));
    });
    const clusterKey = (app: string, database: string) => `${app}/${database}`;

    const taskHandlers: Record<string, TaskHandler> = {};
    const workflows = new LocalWorkflows({
      definition: synthesized.issuanceDefinition,
      taskHandlers,
      waitOverrides: { [VALIDATION_POLL_STATE]: 100 },
    });
    stops.push(() => workflows.stopAll());
    const notifications = new LocalNotifications(log);
    const certificates = new LocalCertificateStore(join(dataDir, 'certificates'));
    let poller: StreamPoller | undefined;
    const portsConfig: LocalPortsConfig = {
      dynamodbEndpoint: dynamodb.endpoint,
      tables: { events: tableNames.Events!, status: tableNames.Status!, challenges: tableNames.Challenges! },
      acme: {
        directoryUrl: acmeFaults.directoryUrl,
        directoryTlsCaPem: pebble.tlsCaPem,
        accountKeyFile: join(dataDir, 'acme-account-key.pem'),
        pollMinMs: LOCAL_ACME_POLL_MS,
        ...(options.acmeProfile && { profile: options.acmeProfile }),
      },
      dns: { server: dns.address, deadlineMs: LOCAL_DNS_DEADLINE_MS, zone: dns.zone },
      httpChallengePort: routerHttpPort,
      certificates,
      databases: new LocalDatabaseServers(({ app, database }) => clusters.get(clusterKey(app, database))),
      workflows,
      notifications,
      apiTokenSecret,
      settings: localSettings(options.settings, pebbleRootsPem, rateLimits, pebbleRootFile),
      ...(options.profiler && { profiler: options.profiler }),
      // The projector follows the log at once, as Lambda's stream source does within milliseconds.
      afterAppend: () => poller?.wake(),
    };
    const ports = localPorts(portsConfig);
    // A profile the CA does not offer is a configuration error: said now, not by a failed order later.
    await ports.ca.checkConfiguration();
    const load = options.handlerLoader ?? loadSourceHandler;
    const loadHandler = (file: string) => load(file, ports, portsConfig);
    Object.assign(taskHandlers, await loadHandlers(ISSUANCE_STEPS, loadHandler));

    const { projector, sweeper, platform } = await loadHandlers(
      { projector: PROJECTOR_HANDLER, sweeper: SWEEP_HANDLER, platform: PLATFORM_EVENTS_HANDLER },
      loadHandler,
    );
    poller = await startProjector(dynamodb, tableNames.Events!, projector as StreamConsumer);
    stops.push(() => poller.stop());
    const sweep = () => sweeper!(undefined);
    const sweepTimer = setInterval(
      () => void sweep().catch((error: unknown) => console.error(`sweep failed: ${String(error)}`)),
      options.sweepIntervalMs ?? 60_000,
    );
    stops.push(async () => clearInterval(sweepTimer));

    const firePlatformEvent = (detailType: string, detail: Record<string, unknown>, time = new Date()) =>
      platform!({ version: '0', id: randomUUID(), source: 'platform', 'detail-type': detailType, time: time.toISOString(), detail });
    const apiDispatch = await loadApiDispatcher(loadHandler);
    // EventBridge's stand-in: a user fires a platform event by hand, like the platform would.
    const dispatch: ApiDispatcher = async (request) => {
      if (request.method !== 'POST' || request.path !== LOCAL_PLATFORM_EVENTS_PATH) return apiDispatch(request);
      const event = JSON.parse(request.body ?? '{}') as { 'detail-type'?: string; detail?: Record<string, unknown> };
      const result = await firePlatformEvent(event['detail-type'] ?? '', event.detail ?? {});
      return { statusCode: 202, headers: { 'content-type': 'application/json' }, body: JSON.stringify(result) };
    };
    const api: LocalServer = await startApiServer(dispatch, options.apiPort ?? 0);
    stops.push(() => api.close());
    const consoleServer = await startConsoleServer({
      apiUrl: api.url,
      workflows,
      definition: synthesized.issuanceDefinition,
      isOperatorToken: (token) => verifyToken(token, apiTokenSecret)?.apps === '*',
      port: options.consolePort ?? 0,
    });
    stops.push(() => consoleServer.close());
    // The edge reads what it applies to a hostname (its app's TLS policy, automation on or off) from the log.
    await reservedHttpPort?.release();
    const router = await startRouter({
      dispatch,
      certificates,
      edge: (hostname) => edgeSettings(ports, hostname),
      httpPort: routerHttpPort,
      httpsPort: options.routerHttpsPort ?? 0,
    });
    stops.push(() => router.close());

    // The platform's database hosts: one cluster per database, on the same port at every start.
    const databasesFolder = join(dataDir, 'postgres');
    const startCluster = async (app: string, database: string): Promise<PostgresCluster> => {
      const key = clusterKey(app, database);
      const running = clusters.get(key);
      if (running) return running;
      const name = `${app}-${database}`;
      const hostname = databaseHostname(app, database, LOCAL_DATABASE_HOST_SUFFIX);
      await mkdir(databasesFolder, { recursive: true });
      await writeFile(join(databasesFolder, `${name}.json`), JSON.stringify({ app, database }));
      const port = await keptPort(join(databasesFolder, `${name}.port`));
      const cluster = await startPostgresCluster({
        dir: join(databasesFolder, name),
        hostname,
        database,
        user: database,
        platformCa,
        port,
      });
      clusters.set(key, cluster);
      dns.zone.set(hostname, 'A', [cluster.host]);
      return cluster;
    };
    const addDatabase = async (app: string, database: string) => {
      const cluster = await startCluster(app, database);
      await firePlatformEvent('DatabaseAdded', {
        eventId: `local-database-${clusterKey(app, database)}`,
        app,
        database,
        port: cluster.port,
      });
      return cluster;
    };
    // The databases of an earlier run come back before anything is reconciled.
    for (const file of (await readdir(databasesFolder).catch(() => [])).filter((name) => name.endsWith('.json'))) {
      const { app, database } = JSON.parse(await readFile(join(databasesFolder, file), 'utf8')) as { app: string; database: string };
      await startCluster(app, database);
    }

    // What a crash or a stop left open carries on: once the projection has caught up with the log,
    // every open attempt gets an execution again (nothing runs yet, so none is live). After the
    // router and the database hosts are up, which the restarted steps reach.
    await poller.caughtUp();
    await sweeper!({ reconcileNow: true });

    const stopOnExit = () => void stopAll();
    process.once('beforeExit', stopOnExit);
    return {
      apiUrl: api.url,
      console: consoleServer,
      dns,
      pebble,
      acmeFaults,
      router,
      workflows,
      notifications,
      sweep,
      // A whole pass that began after the call found nothing new: the second empty one.
      projectorCaughtUp: async () => {
        poller!.wake();
        await poller!.caughtUp();
        await poller!.caughtUp();
      },
      firePlatformEvent,
      dispatch,
      ports,
      dynamodbEndpoint: dynamodb.endpoint,
      certificates,
      dataDir,
      pebbleRootFile,
      platformCa,
      addDatabase,
      tokens: {
        operator: signToken({ sub: 'operator', apps: '*' }, apiTokenSecret),
        forApps: (...apps) => signToken({ sub: `owner of ${apps.join(', ')}`, apps }, apiTokenSecret),
      },
      stop: async () => {
        process.off('beforeExit', stopOnExit);
        await stopAll();
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Table logical ids (`EventsD32975C2`) become short local names (`Events`); tables kept from an earlier run stay. */
async function createTables(dynamodb: DynamoDbLocal, tables: ReturnType<typeof synthesize>['tables']): Promise<Record<string, string>> {
  const client = new DynamoDBClient(localClientConfig(dynamodb.endpoint));
  const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames ?? []);
  const names: Record<string, string> = {};
  for (const [logicalId, definition] of Object.entries(tables)) {
    const name = logicalId.replace(/[0-9A-F]{8}$/, '');
    if (!existing.has(name)) await client.send(new CreateTableCommand({ ...definition, TableName: name }));
    names[name] = name;
  }
  return names;
}

/** A random secret made on the first start and read on the next ones (mode 0600). */
async function keptSecret(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const secret = randomBytes(32).toString('base64url');
    await writeFile(file, secret, { mode: 0o600 });
    return secret;
  }
}

/** This run's roots first, then those of earlier runs still in the file: every one is written back. */
async function accumulatedRoots(file: string, current: string[]): Promise<string[]> {
  const earlier =
    (await readFile(file, 'utf8').catch(() => '')).match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n?/g) ?? [];
  const normalise = (pem: string) => (pem.endsWith('\n') ? pem : `${pem}\n`);
  const roots = [...new Set([...current, ...earlier].map(normalise))];
  await writeFile(file, roots.join(''));
  return roots;
}

async function startProjector(dynamodb: DynamoDbLocal, eventsTable: string, projector: StreamConsumer): Promise<StreamPoller> {
  const config = localClientConfig(dynamodb.endpoint);
  const { Table } = await new DynamoDBClient(config).send(new DescribeTableCommand({ TableName: eventsTable }));
  if (!Table?.LatestStreamArn) throw new Error(`table ${eventsTable} has no stream`);
  return pollStream(new DynamoDBStreamsClient(config), Table.LatestStreamArn, projector);
}

/** The local settings: production's, with this machine's DNS names and no renewal jitter, then the caller's. */
function localSettings(overrides: LocalCloudOptions['settings'], pebbleRootsPem: string[], rateLimits: Limits, rootFile: string): Settings {
  return {
    ...DEFAULT_SETTINGS,
    rateLimits,
    dnsTargetSuffix: LOCAL_DNS_TARGET_SUFFIX,
    legacyTargetSuffixes: [LOCAL_LEGACY_TARGET_SUFFIX],
    renewalJitterSeconds: overrides?.renewalJitterSeconds ?? 0,
    retryPolicy: { ...DEFAULT_SETTINGS.retryPolicy, ...overrides?.retryPolicy },
    trustedRootsPem: [...tls.rootCertificates, ...pebbleRootsPem],
    databaseHostSuffix: LOCAL_DATABASE_HOST_SUFFIX,
    // Pebble's roots stand in for the system's public ones; the system resolver does not know the local zone.
    databaseRootCertPath: rootFile,
    databaseHostAddress: '127.0.0.1',
    // Pebble validates in milliseconds here.
    validationLooks: { firstMs: 10, budgetMs: 2000 },
  };
}

/** Lambda's calling convention: `handler(event, context)`. */
export type LambdaHandler = (event: unknown, context: object) => Promise<unknown>;

/**
 * How a handler file the stack points Lambda at becomes the function the local cloud calls.
 * `config` is what `ports` were built from (endpoints, table names, settings), for handlers that
 * build their own: the deployed bundles, from environment variables (infra/local/bundles.ts).
 */
export type HandlerLoader = (file: string, ports: Ports, config: LocalPortsConfig) => Promise<LambdaHandler>;

/** By default: the TypeScript source, given the local ports by its own factory. */
export const loadSourceHandler = async (file: string, ports: Ports): Promise<LambdaHandler> => {
  const { createHandler } = (await import(join(ROOT, file))) as { createHandler: (ports: Ports) => LambdaHandler };
  return createHandler(ports);
};

async function loadHandlers(
  files: Record<string, string>,
  load: (file: string) => Promise<LambdaHandler>,
): Promise<Record<string, TaskHandler>> {
  const entries = await Promise.all(
    Object.entries(files).map(async ([name, file]) => {
      const handler = await load(file);
      return [name, (input: unknown) => handler(input, {})] as const;
    }),
  );
  return Object.fromEntries(entries);
}
