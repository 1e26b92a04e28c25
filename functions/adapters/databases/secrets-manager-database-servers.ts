// Databases' certificates in AWS: one secret per database, and an EventBridge event that
// the database host's agent acts on (it reads the secret, writes the files, reloads Postgres).
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  InvalidRequestException,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { putServiceEvent } from '../notifications/eventbridge-notifications.ts';
import type { DatabaseCertificate, DatabaseServers, DatabaseTarget, SslConnection } from './database-servers.ts';

/** The secret's JSON. The agent serves `chains[servedRoot]`, the servedRoot of the latest event. */
export interface DatabaseSecret {
  privateKeyPem: string;
  /** Root name -> chain PEM, leaf first. */
  chains: Record<string, string>;
  /** The root served when this version was written. */
  servedRoot: string;
}

/** `DatabaseCertificateReady`: serve `chains[servedRoot]` from the secret. */
export interface DatabaseCertificateReady {
  app: string;
  database: string;
  secretArn: string;
  notAfter: string;
  servedRoot: string;
}

/** `DatabaseCertificateRemoved`: serve the platform-signed certificate again. */
export interface DatabaseCertificateRemoved {
  app: string;
  database: string;
  secretArn: string;
}

/** How long a deleted secret can be restored: a disable undone within it gets the same secret back. */
const RECOVERY_WINDOW_DAYS = 7;

export class SecretsManagerDatabaseServers implements DatabaseServers {
  constructor(
    private readonly secrets: SecretsManagerClient,
    private readonly eventBridge: EventBridgeClient,
    private readonly eventBusName: string | undefined,
    /** e.g. `acm-automation/databases/`: the secret is `<prefix><app>/<database>`. */
    private readonly secretPrefix: string,
  ) {}

  async install(target: DatabaseTarget, certificate: DatabaseCertificate): Promise<string> {
    if (!certificate.chains.some((chain) => chain.root === certificate.servedRoot)) {
      throw new Error(`no chain to ${certificate.servedRoot} among those offered for ${target.hostname}`);
    }
    const secret: DatabaseSecret = {
      privateKeyPem: certificate.privateKeyPem,
      chains: Object.fromEntries(certificate.chains.map((chain) => [chain.root, chain.chainPem])),
      servedRoot: certificate.servedRoot,
    };
    const secretArn = await this.store(target, JSON.stringify(secret));
    await this.ready(target, secretArn, certificate.servedRoot, certificate.notAfter);
    return secretArn;
  }

  // The secret already holds every chain: the agent re-reads it and serves chains[servedRoot].
  // Nothing is read or rewritten here: our Lambdas never read a database's key back.
  serve(target: DatabaseTarget, location: string, servedRoot: string, notAfter: string): Promise<void> {
    return this.ready(target, location, servedRoot, notAfter);
  }

  async revert(target: DatabaseTarget, location: string): Promise<void> {
    // The agent is told first, so the database never serves from a secret that is gone.
    const removed: DatabaseCertificateRemoved = { app: target.app, database: target.database, secretArn: location };
    await putServiceEvent(this.eventBridge, this.eventBusName, 'DatabaseCertificateRemoved', removed);
    try {
      // A recovery window, so not ForceDeleteWithoutRecovery: the API refuses both in one call.
      await this.secrets.send(new DeleteSecretCommand({ SecretId: location, RecoveryWindowInDays: RECOVERY_WINDOW_DAYS }));
    } catch (error) {
      // Run again (at least once): already deleted, or already scheduled for deletion.
      if (error instanceof ResourceNotFoundException) return;
      if (error instanceof InvalidRequestException && (await this.scheduledForDeletion(location))) return;
      throw error;
    }
  }

  // A Lambda cannot see a database host's connections: its agent would report them (not built yet).
  async sslConnections(_target: DatabaseTarget): Promise<SslConnection[]> {
    return [];
  }

  private ready(target: DatabaseTarget, secretArn: string, servedRoot: string, notAfter: string): Promise<void> {
    const ready: DatabaseCertificateReady = { app: target.app, database: target.database, secretArn, notAfter, servedRoot };
    return putServiceEvent(this.eventBridge, this.eventBusName, 'DatabaseCertificateReady', ready);
  }

  /** A new version of the database's secret; the first install creates it. Returns its ARN. */
  private async store(target: DatabaseTarget, value: string): Promise<string> {
    const name = `${this.secretPrefix}${target.app}/${target.database}`;
    const put = async () => arnOf(await this.secrets.send(new PutSecretValueCommand({ SecretId: name, SecretString: value })));
    try {
      return await put();
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return this.create(target, name, value, put);
      if (error instanceof InvalidRequestException && (await this.scheduledForDeletion(name))) {
        // Enabled again within the recovery window of a disable: the same secret (and tags) come back.
        await this.secrets.send(new RestoreSecretCommand({ SecretId: name }));
        return put();
      }
      throw error;
    }
  }

  private async create(target: DatabaseTarget, name: string, value: string, put: () => Promise<string>): Promise<string> {
    try {
      const created = await this.secrets.send(
        new CreateSecretCommand({
          Name: name,
          Description: `Enhanced certificate of database ${target.database} of app ${target.app}: key and chains, read by its host`,
          SecretString: value,
          // The host role's read is conditioned on these tags matching its own (DatabaseHostSecretRead).
          Tags: [
            { Key: 'app', Value: target.app },
            { Key: 'database', Value: target.database },
          ],
        }),
      );
      return arnOf(created);
    } catch (error) {
      // Another run of this step created it in the meantime.
      if (error instanceof ResourceExistsException) return put();
      throw error;
    }
  }

  private async scheduledForDeletion(secretId: string): Promise<boolean> {
    const { DeletedDate } = await this.secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
    return DeletedDate !== undefined;
  }
}

function arnOf({ ARN }: { ARN?: string | undefined }): string {
  if (!ARN) throw new Error('Secrets Manager returned no ARN');
  return ARN;
}
