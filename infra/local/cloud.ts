// The embedded local cloud: DynamoDB Local, Pebble, a DNS zone, the edge router,
// the API and the issuance workflow, all on 127.0.0.1, all running the definitions
// the CDK stack synthesizes and the handler files Lambda runs.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { LocalCertificateStore } from '../../functions/adapters/certificates/local-certificate-store.ts';
import { LocalWorkflows, type TaskHandler } from '../../functions/adapters/workflows/local-workflows.ts';
import { signToken } from '../../functions/domain/tokens.ts';
import { dependencies, useLocalServices } from '../../functions/handlers/lib/dependencies.ts';
import { LocalNotifications } from '../../functions/adapters/notifications/notifications.ts';
import { PLATFORM_EVENTS_HANDLER, PROJECTOR_HANDLER, SWEEP_HANDLER } from '../api-routes.ts';
import { ISSUANCE_STEPS, VALIDATION_POLL_STATE } from '../workflows/issuance.ts';
import { startAcmeFaultProxy, type AcmeFaultProxy } from './acme-fault-proxy.ts';
import { loadApiDispatcher, startApiServer, type ApiDispatcher, type LocalServer } from './api-server.ts';
import { startDnsServer, type DnsServer } from './dns-server.ts';
import { startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local.ts';
import { startPebble, type Pebble } from './pebble.ts';
import { freePort } from './ports.ts';
import { startRouter, type Router } from './router.ts';
import { pollStream, type StreamConsumer, type StreamPoller } from './stream-poller.ts';
import { synthesize } from './synthesized.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const LOCAL_DNS_TARGET_SUFFIX = 'edge.localcloud.test';
export const LOCAL_PLATFORM_EVENTS_PATH = '/local/platform-events';
/** Where apps pointed before: a CNAME ending here is CNAME_TARGET_INCORRECT. */
export const LOCAL_LEGACY_TARGET_SUFFIX = 'legacy.localcloud.test';
const LOCAL_CREDENTIALS = { AWS_REGION: 'local', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' };
const localClientConfig = (endpoint: string) => ({
  endpoint,
  region: 'local',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

export interface LocalCloudOptions {
  dataDir: string;
  /** 0 picks a free port (tests); `npm start` uses fixed, documented ones. */
  apiPort?: number;
  routerHttpPort?: number;
  routerHttpsPort?: number;
  dnsPort?: number;
  /** Extra handler environment, e.g. a shortened failing window in tests. */
  environment?: Record<string, string>;
  certificateValidityPeriod?: number;
  /** How often the renewal and notification sweep runs; an hour in AWS. */
  sweepIntervalMs?: number;
}

export interface LocalCloud {
  apiUrl: string;
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
  dispatch: ApiDispatcher;
  dataDir: string;
  /** Where the local cloud installs certificates (ACM's stand-in). */
  certificates: LocalCertificateStore;
  /** Pebble's issuing root, written where `curl --cacert` can read it. */
  pebbleRootFile: string;
  /** Bearer tokens signed with this run's secret: all apps, or the apps named. */
  tokens: { operator: string; forApps(...apps: string[]): string };
  stop(): Promise<void>;
}

export async function startLocalCloud(options: LocalCloudOptions): Promise<LocalCloud> {
  const dataDir = options.dataDir;
  // Lambda runs Node 22; on this machine's Node 20 the SDK's upgrade notice is noise.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  // Pebble and DynamoDB Local start empty: certificates from an earlier run chain to a root that is gone.
  await rm(join(dataDir, 'certificates'), { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((error: unknown) => console.error(`stopping: ${String(error)}`));
  };
  try {
    const routerHttpPort = options.routerHttpPort || (await freePort());
    const dns = await startDnsServer({ port: options.dnsPort ?? 0 });
    stops.push(() => dns.stop());
    dns.zone.set(`*.${LOCAL_DNS_TARGET_SUFFIX}`, 'A', ['127.0.0.1']);
    const starting = Promise.allSettled([
      startDynamoDbLocal(),
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
      synthesized = synthesize(LOCAL_DNS_TARGET_SUFFIX);
    } finally {
      // Whatever happened, every child that started gets stopped.
      for (const started of await starting) if (started.status === 'fulfilled') stops.push(() => started.value.stop());
    }
    const [dynamodbStart, pebbleStart] = await starting;
    if (dynamodbStart.status === 'rejected') throw dynamodbStart.reason;
    if (pebbleStart.status === 'rejected') throw pebbleStart.reason;
    const [dynamodb, pebble] = [dynamodbStart.value, pebbleStart.value];
    // The service talks to Pebble through a proxy that tests can make misbehave (rate limits, 5xx).
    const acmeFaults = await startAcmeFaultProxy({
      upstreamDirectoryUrl: pebble.directoryUrl,
      upstreamTlsCaPem: pebble.tlsCaPem,
      serverTls: pebble.serverTls,
    });
    stops.push(() => acmeFaults.stop());

    const tableNames = await createTables(dynamodb, synthesized.tables);
    // Tokens are signed with a secret made for this run; uploads may chain to this run's Pebble.
    const apiTokenSecret = randomBytes(32).toString('base64url');
    const pebbleRootFile = join(dataDir, 'pebble-root.pem');
    await writeFile(pebbleRootFile, await pebble.rootCertificatePem());
    Object.assign(process.env, LOCAL_CREDENTIALS, {
      API_TOKEN_SECRET: apiTokenSecret,
      EXTRA_TRUSTED_ROOTS_FILE: pebbleRootFile,
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
      EVENTS_TABLE: tableNames.Events,
      STATUS_TABLE: tableNames.Status,
      CHALLENGES_TABLE: tableNames.Challenges,
      ACME_DIRECTORY_URL: acmeFaults.directoryUrl,
      ACME_DIRECTORY_CA_FILE: pebble.tlsCaFile,
      ACME_ACCOUNT_KEY_FILE: join(dataDir, 'acme-account-key.pem'),
      ACME_POLL_MIN_MS: '100',
      DNS_RESOLVER: dns.address,
      DNS_DEADLINE_MS: '1000',
      HTTP_CHALLENGE_PORT: String(routerHttpPort),
      LOCAL_CERTIFICATE_DIR: join(dataDir, 'certificates'),
      DNS_TARGET_SUFFIX: LOCAL_DNS_TARGET_SUFFIX,
      LEGACY_TARGET_SUFFIXES: LOCAL_LEGACY_TARGET_SUFFIX,
      RENEWAL_JITTER_SECONDS: '0',
      ...options.environment,
    });

    const workflows = new LocalWorkflows({
      definition: synthesized.issuanceDefinition,
      taskHandlers: await loadHandlers(ISSUANCE_STEPS),
      waitOverrides: { [VALIDATION_POLL_STATE]: 100 },
    });
    const notifications = new LocalNotifications();
    useLocalServices({ workflows, notifications });
    stops.push(() => workflows.stopAll());

    const projector = (await loadHandlers({ projector: PROJECTOR_HANDLER })).projector as StreamConsumer;
    const poller = await startProjector(dynamodb, tableNames.Events!, projector);
    stops.push(() => poller.stop());

    const { sweeper } = await loadHandlers({ sweeper: SWEEP_HANDLER });
    const sweep = () => sweeper!(undefined);
    const sweepTimer = setInterval(
      () => void sweep().catch((error: unknown) => console.error(`sweep failed: ${String(error)}`)),
      options.sweepIntervalMs ?? 60_000,
    );
    stops.push(async () => clearInterval(sweepTimer));

    const { platform } = await loadHandlers({ platform: PLATFORM_EVENTS_HANDLER });
    const firePlatformEvent = (detailType: string, detail: Record<string, unknown>, time = new Date()) =>
      platform!({ version: '0', id: randomUUID(), source: 'platform', 'detail-type': detailType, time: time.toISOString(), detail });
    const apiDispatch = await loadApiDispatcher(ROOT);
    // EventBridge's stand-in: a user fires a platform event by hand, like the platform would.
    const dispatch: ApiDispatcher = async (request) => {
      if (request.method !== 'POST' || request.path !== LOCAL_PLATFORM_EVENTS_PATH) return apiDispatch(request);
      const event = JSON.parse(request.body ?? '{}') as { 'detail-type'?: string; detail?: Record<string, unknown> };
      const result = await firePlatformEvent(event['detail-type'] ?? '', event.detail ?? {});
      return { statusCode: 202, headers: { 'content-type': 'application/json' }, body: JSON.stringify(result) };
    };
    const api: LocalServer = await startApiServer(dispatch, options.apiPort ?? 0);
    stops.push(() => api.close());
    const certificates = new LocalCertificateStore(dependencies().config.localCertificateDir ?? '');
    const router = await startRouter({ dispatch, certificates, httpPort: routerHttpPort, httpsPort: options.routerHttpsPort ?? 0 });
    stops.push(() => router.close());

    const stopOnExit = () => void stopAll();
    process.once('beforeExit', stopOnExit);
    return {
      apiUrl: api.url,
      dns,
      pebble,
      acmeFaults,
      router,
      workflows,
      notifications,
      sweep,
      firePlatformEvent,
      dispatch,
      certificates,
      dataDir,
      pebbleRootFile,
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

/** Table logical ids (`EventsD32975C2`) become short local names (`Events`). */
async function createTables(dynamodb: DynamoDbLocal, tables: ReturnType<typeof synthesize>['tables']): Promise<Record<string, string>> {
  const client = new DynamoDBClient(localClientConfig(dynamodb.endpoint));
  const names: Record<string, string> = {};
  for (const [logicalId, definition] of Object.entries(tables)) {
    const name = logicalId.replace(/[0-9A-F]{8}$/, '');
    await client.send(new CreateTableCommand({ ...definition, TableName: name }));
    names[name] = name;
  }
  return names;
}

async function startProjector(dynamodb: DynamoDbLocal, eventsTable: string, projector: StreamConsumer): Promise<StreamPoller> {
  const config = localClientConfig(dynamodb.endpoint);
  const { Table } = await new DynamoDBClient(config).send(new DescribeTableCommand({ TableName: eventsTable }));
  if (!Table?.LatestStreamArn) throw new Error(`table ${eventsTable} has no stream`);
  return pollStream(new DynamoDBStreamsClient(config), Table.LatestStreamArn, projector);
}

/** Imports handler files by name, exactly the ones the stack points Lambda at. */
async function loadHandlers(files: Record<string, string>): Promise<Record<string, TaskHandler>> {
  const entries = await Promise.all(
    Object.entries(files).map(async ([name, file]) => {
      const { handler } = (await import(join(ROOT, file))) as { handler: (event: unknown, context: object) => Promise<unknown> };
      return [name, (input: unknown) => handler(input, {})] as const;
    }),
  );
  return Object.fromEntries(entries);
}
