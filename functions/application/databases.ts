// Enhanced certificates for an app's Postgres databases: the platform adds and removes
// databases; owners enable, disable and rotate. A database's certificate runs through
// the same stream, decider and workflow as a domain's, with DNS-01 in the platform's zone.
import type { DatabaseTarget } from '../adapters/databases/database-servers.ts';
import { decideApp, foldApp } from '../domain/app-decider.ts';
import { decide, fold, isAddition, isRemoval, type DomainState } from '../domain/certificate-decider.ts';
import {
  checkDatabaseName,
  connectionUrls,
  databaseHostname,
  DEFAULT_POSTGRES_PORT,
  DISABLE_WARNING,
  ROTATION_GUIDANCE,
} from '../domain/database.ts';
import { ConflictError, InvalidInputError, NotFoundError } from '../domain/errors.ts';
import { streamIds } from '../domain/events.ts';
import { currentExecution } from '../domain/issuance.ts';
import { certificateStatus, type DatabaseCertificateRow } from '../domain/status.ts';
import { trustedRootsNamed } from '../domain/uploaded-certificate.ts';
import { alreadyHandled, requireApp, stopRunningAttempt, transactOnce, type AppPorts, type PlatformOrigin } from './apps.ts';
import type { Ports } from './ports.ts';
import { appHistory, domainHistory, execute, loadDomain } from './streams.ts';

export type DatabasePorts = AppPorts & Pick<Ports, 'databases'>;

interface DatabaseNamed {
  app: string;
  database: string;
}

const streamsOf = (app: string, hostname: string) => ({ app: streamIds.app(app), domain: streamIds.domain(app, hostname) });

function hostnameOf(ports: Pick<Ports, 'settings'>, { app, database }: DatabaseNamed): string {
  const check = checkDatabaseName(database);
  if (!check.valid) throw new InvalidInputError('database', check.rule);
  return databaseHostname(app, database, ports.settings.databaseHostSuffix);
}

/** The platform added a database: its certificate stream starts, with enhanced certificates off. */
export async function addDatabase(
  ports: AppPorts,
  named: DatabaseNamed & { port?: number },
  correlationId: string,
  origin?: PlatformOrigin,
): Promise<void> {
  const hostname = hostnameOf(ports, named);
  const { app, database, port = DEFAULT_POSTGRES_PORT } = named;
  const policy = ports.settings.retryPolicy;
  await transactOnce(
    ports,
    streamsOf(app, hostname),
    (histories, now) => {
      const command = { type: 'AddDatabase', app, database, hostname, port, ...(origin && { platformEventTime: origin.time }) } as const;
      const added = decide(command, fold(domainHistory(histories.domain)), now, policy);
      // A repeat that changed nothing may still record that it was seen: nothing else follows from it.
      if (!added.some(isAddition)) return { domain: added };
      return { app: decideApp({ type: 'AttachDatabase', database, hostname, port }, foldApp(appHistory(histories.app))), domain: added };
    },
    correlationId,
    origin,
    { app, database },
  );
}

/** The platform removed a database (or its app): its certificate goes, its workflow stops. */
export async function removeDatabase(
  ports: DatabasePorts,
  named: DatabaseNamed,
  reason: 'removed' | 'app-deleted',
  correlationId: string,
  origin?: PlatformOrigin,
): Promise<void> {
  if (await alreadyHandled(ports, origin)) return;
  const hostname = hostnameOf(ports, named);
  const command = { type: 'RemoveDomain', reason, database: true, ...(origin && { platformEventTime: origin.time }) } as const;
  const before = await loadDomain(ports, { app: named.app, hostname });
  const removes = decide(command, before, new Date(), ports.settings.retryPolicy).some(isRemoval);
  // The certificate goes first: a removal recorded with it still installed would leave it behind.
  if (removes && before.certificate) await ports.databases.revert(targetOf(named, hostname), before.certificate.certificateArn);
  await transactOnce(
    ports,
    streamsOf(named.app, hostname),
    (histories, now) => {
      const domain = decide(command, fold(domainHistory(histories.domain)), now, ports.settings.retryPolicy);
      if (!domain.some(isRemoval)) return { domain };
      return { app: decideApp({ type: 'DetachDatabase', database: named.database }, foldApp(appHistory(histories.app))), domain };
    },
    correlationId,
    origin,
    { app: named.app, database: named.database },
  );
  if (removes) await stopRunningAttempt(ports, { app: named.app, hostname }, before);
}

/** An app deleted takes its databases' certificates with it. */
export async function removeAppDatabases(ports: DatabasePorts, app: string, correlationId: string): Promise<void> {
  // An app never seen has no databases; any other failure must stop the deletion, or they would be left behind.
  const { databases } = await requireApp(ports, app).catch((error: unknown) => {
    if (error instanceof NotFoundError) return { databases: {} };
    throw error;
  });
  for (const database of Object.keys(databases)) await removeDatabase(ports, { app, database }, 'app-deleted', correlationId);
}

export async function listDatabases(ports: Pick<Ports, 'events'>, app: string) {
  const { databases } = await requireApp(ports, app);
  return Object.entries(databases).map(([database, { hostname, port }]) => ({ database, hostname, port }));
}

/** Starts (or joins) issuance for the database's hostname. */
export async function enableEnhancedCertificates(ports: DatabasePorts & Pick<Ports, 'settings'>, named: DatabaseNamed, requestId: string) {
  const ref = await requireDatabase(ports, named);
  const { state } = await execute(ports, ref, { type: 'RequestIssuance', trigger: 'enhanced-certificates-enabled' }, requestId);
  if (state.attempt && !state.attempt.closed) await ports.workflows.startIssuance(currentExecution(ref, state.attempt));
  return statusOf(ports, named, state);
}

/** Back to the platform-signed certificate: the workflow stops, the public certificate is deleted. */
export async function disableEnhancedCertificates(ports: DatabasePorts, named: DatabaseNamed, requestId: string) {
  const ref = await requireDatabase(ports, named);
  const before = await loadDomain(ports, ref);
  await stopRunningAttempt(ports, ref, before);
  if (before.certificate) await ports.databases.revert(targetOf(named, ref.hostname), before.certificate.certificateArn);
  await execute(ports, ref, { type: 'TurnAutomationOff' }, requestId);
  return { database: named.database, enabled: false, warning: DISABLE_WARNING };
}

export async function enhancedCertificateStatus(ports: Pick<Ports, 'events' | 'settings' | 'databases'>, named: DatabaseNamed) {
  const ref = await requireDatabase(ports, named);
  return statusOf(ports, named, await loadDomain(ports, ref));
}

/** The PEM roots of every chain the database's certificate was offered with: what clients should trust before a rotation. */
export async function trustBundle(ports: Pick<Ports, 'events' | 'settings'>, named: DatabaseNamed): Promise<string> {
  const ref = await requireDatabase(ports, named);
  const roots = (await loadDomain(ports, ref)).certificate?.availableRoots;
  if (!roots) throw new ConflictError(`database: ${named.database} has no enhanced certificate yet; enable it first`);
  return trustedRootsNamed(roots, ports.settings.trustedRootsPem).join('');
}

/** Serves the chain to another root: the same certificate and key, a reload, no new order. */
export async function rotateRoot(
  ports: Pick<Ports, 'events' | 'settings' | 'databases'>,
  named: DatabaseNamed & { root: string },
  requestId: string,
) {
  const ref = await requireDatabase(ports, named);
  const before = await loadDomain(ports, ref);
  const served = decide({ type: 'ServeRoot', root: named.root }, before, new Date(), ports.settings.retryPolicy);
  // Served first, then recorded: a crash in between is repaired by asking again, which serves the same chain.
  if (served.length > 0 && before.certificate) {
    const { certificateArn, notAfter } = before.certificate;
    await ports.databases.serve(targetOf(named, ref.hostname), certificateArn, named.root, notAfter);
  }
  const { state } = await execute(ports, ref, { type: 'ServeRoot', root: named.root }, requestId);
  return { ...(await statusOf(ports, named, state)), guidance: ROTATION_GUIDANCE };
}

async function requireDatabase(ports: Pick<Ports, 'events' | 'settings'>, named: DatabaseNamed) {
  const hostname = hostnameOf(ports, named);
  const { databases } = await requireApp(ports, named.app);
  if (!databases[named.database]) throw new NotFoundError(`${named.database} is not a database of ${named.app}`);
  return { app: named.app, hostname };
}

function targetOf({ app, database }: DatabaseNamed, hostname: string): DatabaseTarget {
  return { app, database, hostname };
}

/** The contract's DatabaseCertificateStatus: the projection's words, the URLs, and who is connected now. */
async function statusOf(ports: Pick<Ports, 'settings' | 'databases'>, named: DatabaseNamed, state: DomainState) {
  const row = certificateStatus(state) as DatabaseCertificateRow;
  const { database: _database, port, ...status } = row;
  const { databaseRootCertPath, databaseHostAddress } = ports.settings;
  const urls = connectionUrls({ hostname: row.hostname, database: named.database, port }, databaseRootCertPath, databaseHostAddress);
  const sslConnections = await ports.databases.sslConnections(targetOf(named, row.hostname));
  return { database: named.database, port, ...status, ...urls, sslConnections };
}
