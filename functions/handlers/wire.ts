// The composition root in AWS: each Lambda gets exactly the adapters its use case
// names, built once per container from its environment on the first invocation.
import tls from 'node:tls';
import { ACMClient } from '@aws-sdk/client-acm';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { Route53Client } from '@aws-sdk/client-route-53';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SecretsManagerAccountKey } from '../adapters/acme/account-key.ts';
import { AcmeCertificateAuthority } from '../adapters/acme/acme-ca.ts';
import { AcmCertificateStore } from '../adapters/certificates/acm-certificate-store.ts';
import { DynamoDbChallengeStore } from '../adapters/challenges/dynamodb-challenge-store.ts';
import { HttpChallengeProbe } from '../adapters/challenges/http-challenge-probe.ts';
import { SecretsManagerDatabaseServers } from '../adapters/databases/secrets-manager-database-servers.ts';
import { DnsResolver } from '../adapters/dns/dns-resolver.ts';
import { Route53DnsChallengeZone } from '../adapters/dns/route53-dns-challenge-zone.ts';
import { DynamoDbEventStore } from '../adapters/event-store/dynamodb-event-store.ts';
import { EventBridgeNotifications } from '../adapters/notifications/eventbridge-notifications.ts';
import { SecretsManagerSecret } from '../adapters/secrets/secrets-manager-secret.ts';
import { DynamoDbStatusStore } from '../adapters/status/dynamodb-status-store.ts';
import { StepFunctionsWorkflows } from '../adapters/workflows/step-functions-workflows.ts';
import type { Ports } from '../application/ports.ts';
import { configFromEnvironment, type Config } from './config.ts';
import { log as observabilityLog, measure as observabilityMeasure } from './observability.ts';

/** Builds one port from the function's configuration; DynamoDB's client is shared by the ports that use it. */
type Builder<Port> = (config: Config, dynamodb: () => DynamoDBClient) => Port;

// One builder per port, each its own export: a Lambda's bundle keeps only the builders its entry names.
export const log: Builder<Ports['log']> = () => observabilityLog;
export const measure: Builder<Ports['measure']> = () => observabilityMeasure;
export const settings: Builder<Ports['settings']> = (config) => ({ ...config.settings, trustedRootsPem: tls.rootCertificates });
export const events: Builder<Ports['events']> = (config, dynamodb) => new DynamoDbEventStore(dynamodb(), config.eventsTable);
export const statuses: Builder<Ports['statuses']> = (config, dynamodb) => new DynamoDbStatusStore(dynamodb(), config.statusTable);
export const challenges: Builder<Ports['challenges']> = (config, dynamodb) =>
  new DynamoDbChallengeStore(dynamodb(), config.challengesTable);
export const challengeProbe: Builder<Ports['challengeProbe']> = (config) => new HttpChallengeProbe(config.httpChallengePort);
export const dnsChallenges: Builder<Ports['dnsChallenges']> = (config) =>
  new Route53DnsChallengeZone(new Route53Client({}), setFor('DATABASE_HOSTED_ZONE_ID', config.databaseZoneId));
export const databases: Builder<Ports['databases']> = (config) =>
  new SecretsManagerDatabaseServers(
    new SecretsManagerClient({}),
    new EventBridgeClient({}),
    config.eventBusName,
    config.databaseSecretPrefix,
  );
export const dns: Builder<Ports['dns']> = (config) => new DnsResolver(config.dnsResolver, config.dnsDeadlineMs);
export const ca: Builder<Ports['ca']> = (config) =>
  new AcmeCertificateAuthority({
    directoryUrl: config.acmeDirectoryUrl,
    accountKey: new SecretsManagerAccountKey(new SecretsManagerClient({}), config.acmeAccountKeySecretId),
    pollMinMs: config.acmePollMinMs,
    ...(config.acmeProfile && { profile: config.acmeProfile }),
  });
export const certificates: Builder<Ports['certificates']> = () =>
  new AcmCertificateStore(new ACMClient({}), new ResourceGroupsTaggingAPIClient({}));
export const workflows: Builder<Ports['workflows']> = (config) =>
  new StepFunctionsWorkflows(new SFNClient({}), setFor('STATE_MACHINE_ARN', config.stateMachineArn));
export const notifications: Builder<Ports['notifications']> = (config) =>
  new EventBridgeNotifications(new EventBridgeClient({}), config.eventBusName);
export const apiTokenSecret: Builder<Ports['apiTokenSecret']> = (config) =>
  new SecretsManagerSecret(new SecretsManagerClient({}), setFor('API_TOKEN_SECRET_ARN', config.apiTokenSecretId));

export type Builders = { [K in keyof Ports]?: Builder<Ports[K]> };
export type Built<B extends Builders> = { [K in keyof B & keyof Ports]: Ports[K] };

/** Builds the ports named, and only those. */
export function wire<B extends Builders>(config: Config, builders: B): Built<B> {
  let client: DynamoDBClient | undefined;
  const dynamodb = () => (client ??= new DynamoDBClient({}));
  return Object.fromEntries(Object.entries(builders).map(([name, build]) => [name, build!(config, dynamodb)])) as Built<B>;
}

/**
 * A Lambda's `handler`: `create` (the entry file's own factory, which the local cloud
 * calls with its own ports) gets the ports its builders make, wired on the first invocation.
 */
export function awsHandler<B extends Builders, Handler extends (event: never, context: never) => Promise<unknown>>(
  builders: B,
  create: (ports: Built<B>) => Handler,
): Handler {
  let handler: Handler | undefined;
  return ((event: never, context: never) => (handler ??= create(wire(configFromEnvironment(), builders)))(event, context)) as Handler;
}

function setFor(name: string, value: string | undefined): string {
  if (!value) throw new Error(`${name} is not set: the stack sets it for the functions that need it`);
  return value;
}
