// The composition root on this machine: the same adapters as in AWS where the local
// parts speak the same protocol (DynamoDB Local), and the local stand-ins elsewhere
// (a certificate folder for ACM, a key file for Secrets Manager, the in-process runner
// for Step Functions). Everything is configured here, explicitly.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FileAccountKey } from '../../functions/adapters/acme/account-key.ts';
import { AcmeCertificateAuthority } from '../../functions/adapters/acme/acme-ca.ts';
import type { LocalCertificateStore } from '../../functions/adapters/certificates/local-certificate-store.ts';
import { DynamoDbChallengeStore } from '../../functions/adapters/challenges/dynamodb-challenge-store.ts';
import { HttpChallengeProbe } from '../../functions/adapters/challenges/http-challenge-probe.ts';
import type { DatabaseServers } from '../../functions/adapters/databases/database-servers.ts';
import { DnsResolver } from '../../functions/adapters/dns/dns-resolver.ts';
import { LocalDnsChallengeZone, type TxtRecords } from '../../functions/adapters/dns/local-dns-challenge-zone.ts';
import { DynamoDbEventStore } from '../../functions/adapters/event-store/dynamodb-event-store.ts';
import type { EventStore } from '../../functions/adapters/event-store/event-store.ts';
import type { Notifications } from '../../functions/adapters/notifications/notifications.ts';
import { DynamoDbStatusStore } from '../../functions/adapters/status/dynamodb-status-store.ts';
import type { Workflows } from '../../functions/adapters/workflows/workflows.ts';
import type { Ports, Settings } from '../../functions/application/ports.ts';
import { log, measure } from '../../functions/handlers/observability.ts';
import type { Profiler } from './profiler.ts';

/** DynamoDB Local takes any credentials; these say where they belong. */
export function localClientConfig(endpoint: string) {
  return { endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
}

export interface LocalPortsConfig {
  dynamodbEndpoint: string;
  tables: { events: string; status: string; challenges: string };
  acme: { directoryUrl: string; directoryTlsCaPem: string; accountKeyFile: string; pollMinMs: number; profile?: string };
  /** `zone`: the local DNS server's, where DNS-01 answers go (the platform's zone in AWS). */
  dns: { server: string; deadlineMs: number; zone: TxtRecords };
  /** Where the router answers HTTP-01, which Pebble validates on. */
  httpChallengePort: number;
  certificates: LocalCertificateStore;
  databases: DatabaseServers;
  workflows: Workflows;
  notifications: Notifications;
  apiTokenSecret: string;
  settings: Settings;
  /** Times every call to DynamoDB, the CA, DNS, the probe and the stores (the bench's `--profile`). */
  profiler?: Profiler;
  /** Told after every append: the local stream poller looks at once instead of at its next poll. */
  afterAppend?: () => void;
}

/** The event store, calling `appended` after each append it made. */
function announcingAppends(store: EventStore, appended: (() => void) | undefined): EventStore {
  if (!appended) return store;
  return {
    read: (streamId) => store.read(streamId),
    readLast: (streamId) => store.readLast(streamId),
    append: async (writes, context) => {
      const recorded = await store.append(writes, context);
      appended();
      return recorded;
    },
  };
}

export function localPorts(config: LocalPortsConfig): Ports {
  const timed = <T extends object>(area: string, port: T): T => (config.profiler ? config.profiler.wrap(area, port) : port);
  const dynamodb = timed('dynamodb', new DynamoDBClient(localClientConfig(config.dynamodbEndpoint)));
  return {
    settings: config.settings,
    // The same structured logger as in Lambda: the local cloud's log has the lines Lambda would write.
    log,
    measure,
    events: announcingAppends(timed('events', new DynamoDbEventStore(dynamodb, config.tables.events)), config.afterAppend),
    statuses: timed('statuses', new DynamoDbStatusStore(dynamodb, config.tables.status)),
    challenges: new DynamoDbChallengeStore(dynamodb, config.tables.challenges),
    challengeProbe: timed('probe', new HttpChallengeProbe(config.httpChallengePort)),
    dns: timed('dns', new DnsResolver(config.dns.server, config.dns.deadlineMs)),
    dnsChallenges: new LocalDnsChallengeZone(config.dns.zone),
    ca: timed(
      'ca',
      new AcmeCertificateAuthority({
        directoryUrl: config.acme.directoryUrl,
        accountKey: new FileAccountKey(config.acme.accountKeyFile),
        directoryTlsCaPem: config.acme.directoryTlsCaPem,
        pollMinMs: config.acme.pollMinMs,
        ...(config.acme.profile && { profile: config.acme.profile }),
      }),
    ),
    certificates: timed('certificates', config.certificates),
    databases: config.databases,
    workflows: config.workflows,
    notifications: config.notifications,
    apiTokenSecret: { value: async () => config.apiTokenSecret },
  };
}
