// The deployed bundles, run for real: `cdk synth` bundles every function exactly as
// `cdk deploy` uploads it, and the local cloud can run each handler from its asset's
// `index.mjs` instead of the TypeScript source. Each function runs in a sandbox of its
// own (lambda-runtime.ts) with the environment the stack gives it in the template, the
// local cloud's settings, and the endpoints of the AWS APIs it calls: DynamoDB Local,
// and aws-apis.ts for Secrets Manager, ACM, Step Functions and EventBridge. Events reach
// it shaped as API Gateway, Step Functions, EventBridge and DynamoDB Streams send them.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { fileURLToPath } from 'node:url';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent, DynamoDBStreamEvent } from 'aws-lambda';
import { LocalWorkflows } from '../../functions/adapters/workflows/local-workflows.ts';
import type { Ports, Settings } from '../../functions/application/ports.ts';
import { configFromEnvironment } from '../../functions/handlers/config.ts';
import { API_HANDLERS, PLATFORM_EVENTS_HANDLER, PROJECTOR_HANDLER, SWEEP_HANDLER } from '../api-routes.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION, startLocalAwsApis, type LocalAwsApis } from './aws-apis.ts';
import { LOCAL_DATABASE_HOST_SUFFIX, LOCAL_DNS_TARGET_SUFFIX, type LambdaHandler } from './cloud.ts';
import { LocalFunction } from './lambda-runtime.ts';
import { localClientConfig, type LocalPortsConfig } from './local-ports.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Where `cdk synth` writes the assembly and its assets (not committed). */
export const BUNDLES_DIR = join(ROOT, '.cache', 'bundles');
/** The stack `infra/app.ts` defines. */
const STACK_NAME = 'CertificateAutomation';
/** The local zone has no Route 53 id; the stack only needs one to scope a grant. */
const LOCAL_HOSTED_ZONE_ID = 'ZLOCALCLOUD';

interface Resource {
  Type: string;
  Properties: Record<string, any>;
}
type Template = { Resources: Record<string, Resource> };

/** One Lambda function of the synthesized stack. */
export interface BundledFunction {
  logicalId: string;
  /** The handler source file esbuild bundled (`functions/handlers/steps/check-dns.ts`). */
  entry: string;
  /** The asset's module Lambda loads (`.../asset.<hash>/index.mjs`), and its size. */
  bundleFile: string;
  bundleBytes: number;
  /** From esbuild's metafile: each file that went into the bundle, and its bytes there. */
  inputs: Record<string, number>;
  handlerExport: string;
  runtime: string;
  timeoutSeconds: number;
  memorySize: number;
  /** `Environment.Variables` as the template has them (intrinsics unresolved). */
  variables: Record<string, unknown>;
}

export interface SynthesizedBundles {
  dir: string;
  template: Template;
  functions: BundledFunction[];
  synthMs: number;
}

let synthesis: Promise<SynthesizedBundles> | undefined;

/** `cdk synth` with bundling, once per process (it takes ~10 s): what `cdk deploy` would upload. */
export function synthesizeBundles(): Promise<SynthesizedBundles> {
  synthesis ??= synthesizeInto(BUNDLES_DIR);
  return synthesis;
}

async function synthesizeInto(dir: string): Promise<SynthesizedBundles> {
  const started = Date.now();
  // The CDK CLI, as `npm run synth` runs it, on the app `cdk deploy` deploys (cdk.json), with the
  // local cloud's names for context. A child process: the local cloud starts meanwhile.
  const cdk = createRequire(import.meta.url).resolve('aws-cdk/bin/cdk');
  const context = {
    dnsTargetSuffix: LOCAL_DNS_TARGET_SUFFIX,
    databaseHostSuffix: LOCAL_DATABASE_HOST_SUFFIX,
    databaseHostedZoneId: LOCAL_HOSTED_ZONE_ID,
  };
  const args = [
    'synth',
    '--no-notices',
    '--quiet',
    '--output',
    dir,
    ...Object.entries(context).flatMap(([k, v]) => ['--context', `${k}=${v}`]),
  ];
  const output: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [cdk, ...args], {
      cwd: ROOT,
      env: { ...process.env, CDK_DISABLE_VERSION_CHECK: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`cdk synth failed (exit ${code}):\n${output.join('').slice(-4000)}`);

  const read = async (file: string) => JSON.parse(await readFile(join(dir, file), 'utf8'));
  const template = (await read(`${STACK_NAME}.template.json`)) as Template;
  const assets = (await read(`${STACK_NAME}.assets.json`)) as {
    files: Record<string, { source: { path: string }; destinations: Record<string, { objectKey: string }> }>;
  };
  // Each function's Code.S3Key is the object its asset is uploaded as: that names the asset's folder.
  const assetFolders = new Map(
    Object.values(assets.files).flatMap(({ source, destinations }) =>
      Object.values(destinations).map(({ objectKey }) => [objectKey, join(dir, source.path)] as const),
    ),
  );
  const functions: BundledFunction[] = [];
  for (const [logicalId, { Type, Properties }] of Object.entries(template.Resources)) {
    if (Type !== 'AWS::Lambda::Function') continue;
    const folder = assetFolders.get(Properties.Code?.S3Key);
    if (!folder) throw new Error(`${logicalId}: its code is no asset of this assembly`);
    const [module, handlerExport] = splitHandler(String(Properties.Handler));
    const bundleFile = [`${module}.mjs`, `${module}.js`].map((name) => join(folder, name)).find(existsSync);
    if (!bundleFile) throw new Error(`${logicalId}: ${folder} has no ${module}.mjs`);
    functions.push({
      logicalId,
      ...(await metafileOf(folder, logicalId)),
      bundleFile,
      bundleBytes: (await readFile(bundleFile)).length,
      handlerExport,
      runtime: String(Properties.Runtime),
      timeoutSeconds: Number(Properties.Timeout ?? 3),
      memorySize: Number(Properties.MemorySize ?? 128),
      variables: (Properties.Environment?.Variables ?? {}) as Record<string, unknown>,
    });
  }
  // Assets of earlier synths (sources since changed) are dropped; this one's stay for inspection.
  const current = new Set([...assetFolders.values()]);
  for (const name of await readdir(dir)) {
    if (name.startsWith('asset.') && !current.has(join(dir, name))) await rm(join(dir, name), { recursive: true, force: true });
  }
  return { dir, template, functions, synthMs: Date.now() - started };
}

/** `index.handler` -> module `index`, export `handler`. */
function splitHandler(handler: string): [string, string] {
  const dot = handler.lastIndexOf('.');
  return [handler.slice(0, dot), handler.slice(dot + 1)];
}

/** The entry file, from the esbuild metafile the stack's bundling writes beside the bundle. */
async function metafileOf(folder: string, logicalId: string): Promise<Pick<BundledFunction, 'entry' | 'inputs'>> {
  const metafile = join(folder, 'index.meta.json');
  if (!existsSync(metafile)) throw new Error(`${logicalId}: no index.meta.json in its asset; the stack's bundling sets metafile: true`);
  const { outputs } = JSON.parse(await readFile(metafile, 'utf8')) as {
    outputs: Record<string, { entryPoint?: string; inputs: Record<string, { bytesInOutput: number }> }>;
  };
  const entries = Object.values(outputs).filter(({ entryPoint }) => entryPoint);
  if (entries.length !== 1) throw new Error(`${logicalId}: its metafile names ${entries.length} entry points`);
  const [{ entryPoint, inputs }] = entries as [{ entryPoint: string; inputs: Record<string, { bytesInOutput: number }> }];
  return {
    entry: entryPoint,
    inputs: Object.fromEntries(Object.entries(inputs).map(([input, { bytesInOutput }]) => [input, bytesInOutput])),
  };
}

export interface BundledFunctions {
  /**
   * For `startLocalCloud({ handlerLoader })`: each handler file runs as the function `cdk synth`
   * bundled from it. `config` is what the local cloud built its ports from: the endpoints,
   * table names and settings the functions get as environment variables.
   */
  loader(file: string, ports: Ports, config?: LocalPortsConfig): Promise<LambdaHandler>;
  /** The functions loaded so far, by handler file. */
  functions: ReadonlyMap<string, LocalFunction>;
  /** The local AWS APIs the functions call (once the local cloud has loaded a handler). */
  awsApis(): LocalAwsApis;
  /** Stops every sandbox and the local AWS APIs; after the local cloud has stopped. */
  stop(): Promise<void>;
}

interface Runtime {
  config: LocalPortsConfig;
  synthesized: SynthesizedBundles;
  awsApis: LocalAwsApis;
  stateMachineArn: string;
  caFile: string;
  scratch: string;
  eventsStreamArn: Promise<string>;
}

/** Starts synthesizing at once, so `cdk synth` overlaps the local cloud's start. One per local cloud. */
export function bundledFunctions(): BundledFunctions {
  synthesizeBundles().catch(() => undefined);
  const functions = new Map<string, LocalFunction>();
  let runtime: Promise<Runtime> | undefined;
  let firstConfig: LocalPortsConfig | undefined;
  let started: Runtime | undefined;

  const loader: BundledFunctions['loader'] = async (file, _ports, config) => {
    if (!config) {
      throw new Error(
        'the bundles need the local cloud to pass the config its ports are built from (HandlerLoader(file, ports, config)): see infra/local/cloud.ts',
      );
    }
    if (firstConfig && config !== firstConfig) throw new Error('bundledFunctions() serves one local cloud; make another for the next');
    firstConfig = config;
    runtime ??= startRuntime(config).then((value) => (started = value));
    const ready = await runtime;
    const bundled = ready.synthesized.functions.find((candidate) => candidate.entry === file);
    if (!bundled) throw new Error(`no function of the synthesized stack is built from ${file}`);
    const functionName = `${STACK_NAME}-${bundled.logicalId}`;
    const fn = new LocalFunction({
      functionName,
      functionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${functionName}`,
      bundleFile: bundled.bundleFile,
      handlerExport: bundled.handlerExport,
      environment: lambdaEnvironment(bundled, functionName, ready),
      timeoutSeconds: bundled.timeoutSeconds,
    });
    functions.set(file, fn);
    const deliver = eventShaper(file, ready);
    // The local cloud's `context` is dropped: the sandbox makes Lambda's.
    return async (event) => fn.invoke(await deliver(event));
  };

  return {
    loader,
    functions,
    awsApis: () => {
      if (!started) throw new Error('the local AWS APIs start with the first handler the local cloud loads');
      return started.awsApis;
    },
    stop: async () => {
      await Promise.all([...functions.values()].map((fn) => fn.stop()));
      const done = await runtime?.catch(() => undefined);
      await done?.awsApis.close();
      if (done) await rm(done.scratch, { recursive: true, force: true });
    },
  };
}

async function startRuntime(config: LocalPortsConfig): Promise<Runtime> {
  if (!(config.workflows instanceof LocalWorkflows)) throw new Error("the bundles' Step Functions is the local workflow runner");
  const synthesized = await synthesizeBundles();
  const resources = Object.entries(synthesized.template.Resources);
  const [, machine] = resources.find(([, resource]) => resource.Type === 'AWS::StepFunctions::StateMachine') ?? [];
  if (!machine) throw new Error('the stack has no state machine');
  const stateMachineArn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${machine.Properties.StateMachineName}`;
  // The secrets CloudFormation creates: a generated password in each, but the API token
  // secret holds the local cloud's, which signs its tokens.
  const tokenSecrets = new Set(synthesized.functions.map(({ variables }) => refOf(variables.API_TOKEN_SECRET_ARN)).filter(Boolean));
  const secrets = Object.fromEntries(
    resources
      .filter(([, resource]) => resource.Type === 'AWS::SecretsManager::Secret')
      .map(([id, { Properties }]) => [
        withoutHash(id),
        tokenSecrets.has(id)
          ? config.apiTokenSecret
          : (Properties.SecretString ?? generatedPassword(Properties.GenerateSecretString ?? {})),
      ]),
  );
  const awsApis = await startLocalAwsApis({
    certificates: config.certificates,
    workflows: config.workflows,
    stateMachineArn,
    notifications: config.notifications,
    secrets,
  });
  // Pebble's TLS CA, for the ACME directory: Node reads NODE_EXTRA_CA_CERTS at start only, so
  // each sandbox is started with it, as a Lambda function trusting a private CA would be.
  const scratch = await mkdtemp(join(tmpdir(), 'bundles-'));
  const caFile = join(scratch, 'acme-directory-ca.pem');
  await writeFile(caFile, config.acme.directoryTlsCaPem);
  const eventsStreamArn = new DynamoDBClient(localClientConfig(config.dynamodbEndpoint))
    .send(new DescribeTableCommand({ TableName: config.tables.events }))
    .then(({ Table }) => Table?.LatestStreamArn ?? '');
  eventsStreamArn.catch(() => undefined);
  return { config, synthesized, awsApis, stateMachineArn, caFile, scratch, eventsStreamArn };
}

/**
 * A function's whole environment, as one place: Lambda's own variables, the function's
 * from the template (each `Ref` resolved to its local counterpart), what a deployment for
 * this machine sets (the CA, the resolver, the settings), and where the AWS APIs are.
 * It is checked against the local cloud's own configuration: the bundles and the source
 * handlers run with the same settings, or it throws.
 */
function lambdaEnvironment(fn: BundledFunction, functionName: string, runtime: Runtime): Record<string, string> {
  const { config } = runtime;
  const fromTemplate = Object.fromEntries(
    Object.entries(fn.variables).map(([name, value]) => [name, resolveVariable(name, value, fn, runtime)]),
  );
  const deployment: Record<string, string> = {
    ACME_DIRECTORY_URL: config.acme.directoryUrl,
    ACME_POLL_MIN_MS: String(config.acme.pollMinMs),
    ...(config.acme.profile && { ACME_PROFILE: config.acme.profile }),
    DNS_RESOLVER: config.dns.server,
    DNS_DEADLINE_MS: String(config.dns.deadlineMs),
    HTTP_CHALLENGE_PORT: String(config.httpChallengePort),
    ...settingsEnvironment(config.settings),
  };
  for (const [name, value] of Object.entries(deployment)) {
    if (name in fromTemplate && fromTemplate[name] !== value) {
      throw new Error(`${fn.logicalId}: the template sets ${name}=${fromTemplate[name]}, the local cloud runs with ${value}`);
    }
  }
  const environment: Record<string, string> = {
    ...lambdaBaseEnvironment(fn, functionName),
    ...fromTemplate,
    ...deployment,
    // Every AWS API on this machine: DynamoDB Local, and the local stand-ins for the rest
    // (Route 53 included, so a stray call is refused here instead of going out).
    AWS_ENDPOINT_URL: runtime.awsApis.url,
    AWS_ENDPOINT_URL_DYNAMODB: config.dynamodbEndpoint,
    NODE_EXTRA_CA_CERTS: runtime.caFile,
    // No X-Ray here (Lambda hands each invocation its trace id; nothing would receive the segments).
    POWERTOOLS_TRACE_ENABLED: 'false',
  };
  checkAgainstLocalConfig(fn.logicalId, environment, config);
  return environment;
}

/** What Lambda sets for every function, before the function's own variables. */
export function lambdaBaseEnvironment(fn: BundledFunction, functionName: string): Record<string, string> {
  return {
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `local/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    LAMBDA_TASK_ROOT: dirname(fn.bundleFile),
    // The execution role's credentials: nothing here checks them.
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_SESSION_TOKEN: 'local',
    TZ: 'UTC',
    LANG: 'en_US.UTF-8',
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    // Lambda runs Node 22; on this machine's Node 20 the SDK would warn at every cold start.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** The stack's `Ref`s, resolved to what stands in for each resource here. */
function resolveVariable(name: string, value: unknown, fn: BundledFunction, runtime: Runtime): string {
  if (typeof value === 'string') return value;
  const ref = refOf(value);
  const resource = ref ? runtime.synthesized.template.Resources[ref] : undefined;
  switch (resource?.Type) {
    case 'AWS::DynamoDB::Table': {
      // The local cloud names its tables after the logical ids, without the hash (cloud.ts).
      const table = withoutHash(ref!);
      if (!Object.values(runtime.config.tables).includes(table))
        throw new Error(`${fn.logicalId}: ${name} names table ${table}, not a local one`);
      return table;
    }
    case 'AWS::SecretsManager::Secret':
      return runtime.awsApis.secretArns[withoutHash(ref!)]!;
    case 'AWS::StepFunctions::StateMachine':
      return runtime.stateMachineArn;
    default:
      throw new Error(`${fn.logicalId}: ${name} is ${JSON.stringify(value)}, which the local cloud cannot resolve`);
  }
}

const refOf = (value: unknown): string | undefined =>
  typeof value === 'object' && value !== null && 'Ref' in value ? String((value as { Ref: unknown }).Ref) : undefined;

const withoutHash = (logicalId: string) => logicalId.replace(/[0-9A-F]{8}$/, '');

/** Like CloudFormation's GenerateSecretString: 32 characters unless told otherwise. */
function generatedPassword({
  PasswordLength = 32,
  ExcludePunctuation = false,
}: {
  PasswordLength?: number;
  ExcludePunctuation?: boolean;
}): string {
  const alphabet = `ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789${ExcludePunctuation ? '' : '!#$%&()*+,-./:;<=>?@[]^_{|}~'}`;
  return [...randomBytes(PasswordLength)].map((byte) => alphabet[byte % alphabet.length]).join('');
}

/** The settings as the environment variables functions/handlers/config.ts reads them. */
function settingsEnvironment(settings: Settings): Record<string, string> {
  const seconds = (ms: number) => String(ms / 1000);
  return {
    FAILING_WINDOW_SECONDS: seconds(settings.retryPolicy.failingWindowMs),
    RETRY_FIRST_DELAY_SECONDS: seconds(settings.retryPolicy.firstRetryDelayMs),
    RETRY_MAX_DELAY_SECONDS: seconds(settings.retryPolicy.maxRetryDelayMs),
    NOTIFY_AFTER_FAILING_SECONDS: seconds(settings.retryPolicy.notifyAfterMs),
    DNS_TARGET_SUFFIX: settings.dnsTargetSuffix,
    LEGACY_TARGET_SUFFIXES: settings.legacyTargetSuffixes.join(','),
    CAA_ISSUER_DOMAIN_NAMES: settings.caaIssuerDomainNames.join(','),
    RENEWAL_JITTER_SECONDS: String(settings.renewalJitterSeconds),
    RATE_LIMITS: JSON.stringify(
      Object.fromEntries(
        Object.entries(settings.rateLimits).map(([name, { capacity, periodMs }]) => [name, { capacity, periodSeconds: periodMs / 1000 }]),
      ),
    ),
    DATABASE_HOST_SUFFIX: settings.databaseHostSuffix,
    DATABASE_ROOT_CERT_PATH: settings.databaseRootCertPath,
    VALIDATION_FIRST_LOOK_MS: String(settings.validationLooks.firstMs),
    VALIDATION_LOOKS_MS: String(settings.validationLooks.budgetMs),
  };
}

/** What the bundle will read from its environment must be what the local cloud's source handlers run with. */
function checkAgainstLocalConfig(logicalId: string, environment: Record<string, string>, config: LocalPortsConfig): void {
  const read = configFromEnvironment(environment);
  // Not settings in AWS: uploads are checked against the system's roots there, and database
  // hosts are found through public DNS.
  const { trustedRootsPem: _roots, databaseHostAddress: _address, ...settings } = config.settings;
  const expected = {
    eventsTable: config.tables.events,
    statusTable: config.tables.status,
    challengesTable: config.tables.challenges,
    acmeDirectoryUrl: config.acme.directoryUrl,
    acmePollMinMs: config.acme.pollMinMs,
    acmeProfile: config.acme.profile,
    dnsResolver: config.dns.server,
    dnsDeadlineMs: config.dns.deadlineMs,
    httpChallengePort: config.httpChallengePort,
    settings,
  };
  const differing = Object.entries(expected).filter(([key, value]) => !isDeepStrictEqual(read[key as keyof typeof read], value));
  if (differing.length) {
    const which = differing.map(
      ([key, value]) => `${key}: ${JSON.stringify(read[key as keyof typeof read])} (local ${JSON.stringify(value)})`,
    );
    throw new Error(`${logicalId} would run with other settings than the local cloud: ${which.join('; ')}`);
  }
}

/**
 * Events as AWS delivers them: the local cloud's stand-ins build the fields the handlers read;
 * this adds the rest of each shape (API Gateway's REST proxy event, DynamoDB Streams' record
 * as Lambda's event source mapping passes it, EventBridge's envelope, the schedule's event).
 * Step Functions and the token authorizer already get exactly what AWS sends.
 */
function eventShaper(file: string, runtime: Runtime): (event: unknown) => Promise<unknown> {
  if (Object.values(API_HANDLERS).includes(file)) return async (event) => apiGatewayEvent(event as APIGatewayProxyEvent);
  if (file === PROJECTOR_HANDLER) {
    return async (event) => streamEvent(event as DynamoDBStreamEvent, await runtime.eventsStreamArn);
  }
  if (file === PLATFORM_EVENTS_HANDLER) return async (event) => eventBridgeEvent(event as Record<string, unknown>);
  if (file === SWEEP_HANDLER) {
    // The hourly rule's event; anything else (the local start-up's reconcile) is a direct invocation.
    return async (event) =>
      event === undefined
        ? eventBridgeEvent({
            source: 'aws.events',
            'detail-type': 'Scheduled Event',
            resources: [`arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:rule/${STACK_NAME}-SweepSchedule`],
            detail: {},
          })
        : event;
  }
  return async (event) => event;
}

function apiGatewayEvent(event: APIGatewayProxyEvent): APIGatewayProxyEvent {
  const now = new Date();
  const headers = event.headers ?? {};
  const multi = (values: Record<string, string | undefined> | null) =>
    values && Object.fromEntries(Object.entries(values).map(([name, value]) => [name, [value ?? '']]));
  return {
    ...event,
    multiValueHeaders: multi(headers) ?? {},
    multiValueQueryStringParameters: multi(event.queryStringParameters),
    stageVariables: null,
    requestContext: {
      accountId: LOCAL_ACCOUNT,
      apiId: 'local',
      stage: 'prod',
      protocol: 'HTTP/1.1',
      httpMethod: event.httpMethod,
      path: `/prod${event.path}`,
      resourcePath: event.resource,
      resourceId: 'local',
      requestTimeEpoch: now.getTime(),
      domainName: headers.host ?? '127.0.0.1',
      identity: { sourceIp: '127.0.0.1', userAgent: headers['user-agent'] ?? null } as APIGatewayProxyEvent['requestContext']['identity'],
      // The local API's own: the request id and the authorizer's context.
      ...(event.requestContext as Partial<APIGatewayProxyEvent['requestContext']>),
    } as APIGatewayProxyEvent['requestContext'],
  };
}

function streamEvent(event: DynamoDBStreamEvent, eventSourceARN: string): DynamoDBStreamEvent {
  return {
    Records: event.Records.map((record) => {
      const created = record.dynamodb?.ApproximateCreationDateTime as unknown;
      return {
        ...record,
        eventSourceARN,
        awsRegion: LOCAL_REGION,
        // The SDK's GetRecords gives a Date; Lambda's event has epoch seconds.
        dynamodb: {
          ...record.dynamodb,
          ApproximateCreationDateTime: created instanceof Date ? created.getTime() / 1000 : (created as number),
        },
      };
    }),
  };
}

function eventBridgeEvent(event: Record<string, unknown>): Record<string, unknown> {
  // EventBridge's `time` has whole seconds.
  const time = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { version: '0', id: randomUUID(), account: LOCAL_ACCOUNT, time, region: LOCAL_REGION, resources: [], ...event };
}
