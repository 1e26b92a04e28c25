// Wires the adapters once per Lambda container (or once per local cloud) from config.
import { readFileSync } from 'node:fs';
import { ACMClient } from '@aws-sdk/client-acm';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { AcmeCertificateAuthority } from '../../adapters/acme/acme-ca.ts';
import { FileAccountKey, SecretsManagerAccountKey } from '../../adapters/acme/account-key.ts';
import { AcmCertificateStore } from '../../adapters/certificates/acm-certificate-store.ts';
import type { CertificateStore } from '../../adapters/certificates/certificate-store.ts';
import { LocalCertificateStore } from '../../adapters/certificates/local-certificate-store.ts';
import { ChallengeStore } from '../../adapters/challenges/challenge-store.ts';
import { DnsResolver } from '../../adapters/dns/dns-resolver.ts';
import { DynamoDbEventStore } from '../../adapters/event-store/dynamodb-event-store.ts';
import type { EventStore } from '../../adapters/event-store/event-store.ts';
import { EventBridgeNotifications, type Notifications } from '../../adapters/notifications/notifications.ts';
import { StatusStore } from '../../adapters/status/status-store.ts';
import { StepFunctionsWorkflows } from '../../adapters/workflows/step-functions-workflows.ts';
import type { Workflows } from '../../adapters/workflows/workflows.ts';
import { configFromEnvironment, type Config } from './config.ts';

export interface Dependencies {
  config: Config;
  events: EventStore;
  statuses: StatusStore;
  challenges: ChallengeStore;
  certificates: CertificateStore;
  dns: DnsResolver;
  /** Only the handlers that start workflows ask for this (the step functions cannot know their own ARN). */
  workflows(): Workflows;
  notifications(): Notifications;
  /** The secret API tokens are signed with; fetched on first use (the authorizer's only). */
  apiTokenSecret(): Promise<string>;
  /** The CA client needs the account key, which is fetched on first use only. */
  certificateAuthority(): Promise<AcmeCertificateAuthority>;
}

let current: Dependencies | undefined;
let localServices: LocalServices | undefined;

/** What the local cloud runs in-process instead of Step Functions and EventBridge. */
export interface LocalServices {
  workflows: Workflows;
  notifications: Notifications;
}

export function dependencies(): Dependencies {
  current ??= wire(configFromEnvironment());
  return current;
}

export function useLocalServices(services: LocalServices): void {
  localServices = services;
  current = undefined;
}

function wire(config: Config): Dependencies {
  const dynamodb = new DynamoDBClient({});
  let certificateAuthority: Promise<AcmeCertificateAuthority> | undefined;
  let apiTokenSecret: Promise<string> | undefined;
  return {
    config,
    events: new DynamoDbEventStore(dynamodb, config.eventsTable),
    statuses: new StatusStore(dynamodb, config.statusTable),
    challenges: new ChallengeStore(dynamodb, config.challengesTable),
    certificates: config.localCertificateDir
      ? new LocalCertificateStore(config.localCertificateDir)
      : new AcmCertificateStore(new ACMClient({})),
    dns: new DnsResolver(config.dnsResolver, config.dnsDeadlineMs),
    workflows: () => localServices?.workflows ?? new StepFunctionsWorkflows(new SFNClient({}), requiredArn(config)),
    notifications: () => localServices?.notifications ?? new EventBridgeNotifications(new EventBridgeClient({}), config.eventBusName),
    apiTokenSecret() {
      apiTokenSecret ??= loadSecret(config.apiTokenSecret);
      return apiTokenSecret;
    },
    certificateAuthority() {
      certificateAuthority ??= loadAccountKey(config).then(
        (accountKeyPem) =>
          new AcmeCertificateAuthority({
            directoryUrl: config.acmeDirectoryUrl,
            accountKeyPem,
            pollMinMs: config.acmePollMinMs,
            ...(config.acmeDirectoryCaFile && { directoryTlsCaPem: readFileSync(config.acmeDirectoryCaFile, 'utf8') }),
          }),
      );
      return certificateAuthority;
    },
  };
}

function loadAccountKey(config: Config): Promise<string> {
  const store =
    'file' in config.acmeAccountKey
      ? new FileAccountKey(config.acmeAccountKey.file)
      : new SecretsManagerAccountKey(new SecretsManagerClient({}), config.acmeAccountKey.secretId);
  return store.load();
}

async function loadSecret(source: Config['apiTokenSecret']): Promise<string> {
  if ('value' in source) return source.value;
  const { SecretString } = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: source.secretId }));
  if (!SecretString) throw new Error(`secret ${source.secretId} is empty`);
  return SecretString;
}

function requiredArn(config: Config): string {
  if (!config.stateMachineArn) throw new Error('STATE_MACHINE_ARN is not set: the stack must set it');
  return config.stateMachineArn;
}
