// What apps do, shared by the API and the platform's events: add and remove domains,
// turn automation on and off, refresh, delete an app. Each change is one transaction
// over the streams it touches; workflows and certificates follow from what was recorded.
import { appRow, decideApp, decideClaim, foldApp, foldClaim, type AppCommand, type AppState } from '../domain/app-decider.ts';
import { CertificateInUseError } from '../adapters/certificates/certificate-store.ts';
import type { AppRow } from '../adapters/status/status-store.ts';
import { decide, fold, isAddition, isRemoval, type DomainState, type RemovalDeferral } from '../domain/certificate-decider.ts';
import { appNotFound, InvalidInputError, NotFoundError } from '../domain/errors.ts';
import { checkHostname } from '../domain/hostname.ts';
import { streamIds, type ClaimEvent, type IssuanceTrigger, type RecordedEvent, type StreamEvent } from '../domain/events.ts';
import { currentExecution } from '../domain/issuance.ts';
import { bucketId, exactSetBucket, reorderWarning, tokensLeft } from '../domain/rate-limits.ts';
import { isDatabaseRow, REFRESHABLE_STATUSES, type DomainStatus } from '../domain/status.ts';
import type { TlsPolicySetting } from '../domain/tls-policy.ts';
import { bucketStates } from './ledger.ts';
import type { Ports } from './ports.ts';
import { appHistory, domainHistory, execute, loadApp, loadDomain, transact, type DomainRef } from './streams.ts';

/** What changing apps and domains touches: the log, the workflows it starts and stops, the certificates it removes. */
export type AppPorts = Pick<Ports, 'events' | 'settings' | 'workflows' | 'certificates'>;

/** A platform event's identity and time: a redelivery changes nothing, a late add loses to a newer removal. */
export interface PlatformOrigin {
  eventId: string;
  time: string;
  detailType: string;
}

type Decision<K extends string> = (histories: Record<K, RecordedEvent<StreamEvent>[]>, now: Date) => Partial<Record<K, StreamEvent[]>>;

/**
 * A transaction that, for a platform event, also writes the event's receipt stream:
 * its append-only condition makes a redelivered event decide nothing at all.
 */
export function transactOnce<K extends string>(
  ports: AppPorts,
  streams: Record<K, string>,
  decideAll: Decision<K>,
  correlationId: string,
  origin: PlatformOrigin | undefined,
  subject: { app: string; hostname?: string; database?: string },
) {
  if (!origin) return transact(ports, streams, decideAll, correlationId);
  const received: StreamEvent = { type: 'PlatformEventReceived', data: { detailType: origin.detailType, ...subject } };
  return transact<K | 'receipt'>(
    ports,
    { ...streams, receipt: streamIds.receipt(origin.eventId) },
    (histories, now) => (histories.receipt.length > 0 ? {} : { ...decideAll(histories, now), receipt: [received] }),
    correlationId,
  );
}

/** A platform event handled before: its side effects (certificates, executions) must not run again either. */
export async function alreadyHandled(ports: AppPorts, origin: PlatformOrigin | undefined): Promise<boolean> {
  return origin !== undefined && (await ports.events.read(streamIds.receipt(origin.eventId))).length > 0;
}

const domainStreams = (ref: DomainRef) => ({
  app: streamIds.app(ref.app),
  claim: streamIds.hostname(ref.hostname),
  domain: streamIds.domain(ref.app, ref.hostname),
});

/** Adds the domain (pointed at the app's own DNS target unless the platform names one) and starts its issuance. */
export async function addDomain(
  ports: AppPorts,
  domain: DomainRef & { dnsTarget?: string },
  correlationId: string,
  origin?: PlatformOrigin,
): Promise<{ hostname: string; dnsTarget: string }> {
  const suffix = ports.settings.databaseHostSuffix;
  if (domain.hostname === suffix || domain.hostname.endsWith(`.${suffix}`)) {
    throw new InvalidInputError('hostname', `names under ${suffix} are the platform's database hosts, not custom domains`);
  }
  const ref = { ...domain, dnsTarget: domain.dnsTarget ?? dnsTargetFor(ports, domain.app) };
  const policy = ports.settings.retryPolicy;
  const { histories, appended } = await transactOnce(
    ports,
    domainStreams(ref),
    (histories, now) => {
      const app = foldApp(appHistory(histories.app));
      const domain = fold(domainHistory(histories.domain));
      const added = decide({ type: 'AddDomain', ...ref, ...(origin && { platformEventTime: origin.time }) }, domain, now, policy);
      // A repeat that changed nothing may still record that it was seen: nothing else follows from it.
      if (!added.some(isAddition)) return { domain: added };
      const requested = app.acmEnabled
        ? decide({ type: 'RequestIssuance', trigger: 'domain-added' }, fold(added, domain), now, policy)
        : [];
      return {
        app: decideApp({ type: 'AttachDomain', hostname: ref.hostname }, app),
        claim: decideClaim({ type: 'Claim', ...ref }, foldClaim(histories.claim as ClaimEvent[])),
        domain: [...added, ...requested],
      };
    },
    correlationId,
    origin,
    ref,
  );
  // From the state, not from what this call appended: a retry after a crash still starts the workflow.
  const state = fold(domainHistory([...histories.domain, ...appended.domain]));
  const { hostname, dnsTarget } = ref;
  if (state.attempt && !state.attempt.closed && !state.removed) await ports.workflows.startIssuance(currentExecution(ref, state.attempt));
  return { hostname, dnsTarget };
}

export async function removeDomain(
  ports: AppPorts,
  ref: DomainRef,
  reason: 'removed' | 'app-deleted',
  correlationId: string,
  origin?: PlatformOrigin,
): Promise<void> {
  if (await alreadyHandled(ports, origin)) return;
  const asked = { type: 'RemoveDomain', reason, ...(origin && { platformEventTime: origin.time }) } as const;
  const before = await loadDomain(ports, ref);
  const removes = decide(asked, before, new Date(), ports.settings.retryPolicy).some(isRemoval);
  // The certificate goes first: a removal recorded with its certificate still installed would leave it behind.
  const removalDeferred = removes && before.certificate ? await removeCertificate(ports, before.certificate.certificateArn) : undefined;
  const command = { ...asked, ...(removalDeferred && { removalDeferred }) };
  await transactOnce(
    ports,
    domainStreams(ref),
    (histories, now) => {
      const domain = decide(command, fold(domainHistory(histories.domain)), now, ports.settings.retryPolicy);
      // A late removal (older than the add recorded) changes nothing anywhere.
      if (!domain.some(isRemoval)) return { domain };
      return {
        app: decideApp({ type: 'DetachDomain', hostname: ref.hostname }, foldApp(appHistory(histories.app))),
        claim: decideClaim({ type: 'Release', ...ref }, foldClaim(histories.claim as ClaimEvent[])),
        domain,
      };
    },
    correlationId,
    origin,
    ref,
  );
  if (removes) await stopRunningAttempt(ports, ref, before);
}

/** Opens an attempt (or joins the open one) and starts its workflow; the execution name makes the start idempotent. */
export async function requestIssuance(ports: AppPorts, ref: DomainRef, trigger: IssuanceTrigger, correlationId: string): Promise<string> {
  const { state } = await execute(ports, ref, { type: 'RequestIssuance', trigger }, correlationId);
  const { executionName } = await ports.workflows.startIssuance(currentExecution(ref, state.attempt ?? { number: 1, restarts: 0 }));
  return executionName;
}

const TURNS_AUTOMATION_OFF = new Set<AppCommand['type']>(['DisableAcm', 'UploadCertificate', 'RemoveUploadedCertificate']);

/** Runs an app command; when it turned automation off or on, the domains follow. */
export async function changeApp(ports: AppPorts, app: string, command: AppCommand, correlationId: string): Promise<AppState> {
  const { histories, appended } = await transact(
    ports,
    { app: streamIds.app(app) },
    ({ app: history }) => ({ app: decideApp(command, foldApp(appHistory(history))) }),
    correlationId,
  );
  const state = foldApp(appHistory([...histories.app, ...appended.app]));
  // From the state, not from what this call appended: a retried request finishes the job.
  if (!state.acmEnabled && TURNS_AUTOMATION_OFF.has(command.type)) await automationOff(ports, app, state.domains, correlationId);
  else if (command.type === 'EnableAcm') await automationOn(ports, app, state.domains, correlationId);
  return state;
}

/** Running workflows stop and managed certificates are removed. */
async function automationOff(ports: AppPorts, app: string, domains: string[], correlationId: string): Promise<void> {
  for (const hostname of domains) {
    const ref = { app, hostname };
    const domain = await loadDomain(ports, ref);
    await stopRunningAttempt(ports, ref, domain);
    const removalDeferred = domain.certificate ? await removeCertificate(ports, domain.certificate.certificateArn) : undefined;
    await execute(ports, ref, { type: 'TurnAutomationOff', ...(removalDeferred && { removalDeferred }) }, correlationId);
  }
}

async function automationOn(ports: AppPorts, app: string, domains: string[], correlationId: string): Promise<void> {
  for (const hostname of domains) {
    const ref = { app, hostname };
    if (!(await loadDomain(ports, ref)).certificate) await requestIssuance(ports, ref, 'acm-enabled', correlationId);
  }
}

export async function deleteApp(ports: AppPorts, app: string, correlationId: string, origin?: PlatformOrigin): Promise<void> {
  if (await alreadyHandled(ports, origin)) return;
  const state = await loadApp(ports, app);
  for (const hostname of state.domains) await removeDomain(ports, { app, hostname }, 'app-deleted', correlationId);
  for (const upload of Object.values(state.uploads)) await ports.certificates.remove(upload.certificateArn);
  await transactOnce(
    ports,
    { app: streamIds.app(app) },
    (histories) => ({ app: decideApp({ type: 'DeleteApp' }, foldApp(appHistory(histories.app))) }),
    correlationId,
    origin,
    { app },
  );
}

/**
 * Deletes a managed certificate. One a TLS terminator still uses (ACM's ResourceInUseException)
 * is not an error: the log records it as still to delete, and the sweep retries after the retry delay.
 */
export async function removeCertificate(
  ports: Pick<Ports, 'certificates' | 'settings'>,
  certificateArn: string,
): Promise<RemovalDeferral | undefined> {
  try {
    await ports.certificates.remove(certificateArn);
    return undefined;
  } catch (error) {
    if (!(error instanceof CertificateInUseError)) throw error;
    return { reason: error.message, retryAt: new Date(Date.now() + ports.settings.retryPolicy.firstRetryDelayMs).toISOString() };
  }
}

export async function stopRunningAttempt(ports: AppPorts, ref: DomainRef, state: DomainState): Promise<void> {
  if (state.attempt && !state.attempt.closed) await ports.workflows.stopIssuance(currentExecution(ref, state.attempt));
}

/** An app exists once something was recorded for it, until it is deleted. */
export async function requireApp(ports: Pick<Ports, 'events'>, app: string): Promise<AppState> {
  const state = await loadApp(ports, app);
  if (state.version === 0 || state.deleted) throw appNotFound(app);
  return state;
}

/** The name an app's custom domains must point at. */
export function dnsTargetFor(ports: Pick<Ports, 'settings'>, app: string): string {
  return `${app}.${ports.settings.dnsTargetSuffix}`;
}

export async function listDomains(
  ports: Pick<Ports, 'events' | 'settings'>,
  app: string,
): Promise<Array<{ hostname: string; dnsTarget: string }>> {
  const { domains } = await requireApp(ports, app);
  return domains.map((hostname) => ({ hostname, dnsTarget: dnsTargetFor(ports, app) }));
}

/** An owner's removal of a domain named in the path: it must be one of the app's. */
export async function removeAppDomain(ports: AppPorts, app: string, named: string, correlationId: string): Promise<DomainRef> {
  const ref = { app, hostname: await domainNamed(ports, app, named) };
  await requireDomainOf(ports, ref);
  await removeDomain(ports, ref, 'removed', correlationId);
  return ref;
}

/** Everything recorded about a domain named in the path, in order: the timeline explains itself. */
export async function domainTimeline(ports: Pick<Ports, 'events'>, app: string, named: string) {
  const hostname = await domainNamed(ports, app, named);
  const events = await ports.events.read(streamIds.domain(app, hostname));
  if (events.length === 0) throw new NotFoundError(`${hostname} is not a domain of ${app}`);
  return events.map(({ version, type, at, data }) => ({ version, type, at, data }));
}

export async function enableAutomation(ports: AppPorts, app: string, correlationId: string): Promise<{ app: string; enabled: boolean }> {
  const state = await changeApp(ports, app, { type: 'EnableAcm' }, correlationId);
  return { app, enabled: state.acmEnabled };
}

/** Automation off; the answer warns what turning it on again soon would cost in the CA's exact-set budget. */
export async function disableAutomation(
  ports: AppPorts,
  app: string,
  correlationId: string,
): Promise<{ app: string; enabled: boolean; warnings?: string[] }> {
  const { domains } = await requireApp(ports, app);
  const state = await changeApp(ports, app, { type: 'DisableAcm' }, correlationId);
  const limits = ports.settings.rateLimits;
  const buckets = domains.map((hostname) => exactSetBucket([hostname]));
  const states = await bucketStates(ports, buckets);
  const warnings = buckets.map((bucket, index) =>
    reorderWarning(limits, domains[index]!, tokensLeft(limits.certificatesPerExactSet, states.get(bucketId(bucket)), Date.now())),
  );
  return { app, enabled: state.acmEnabled, ...(warnings.length > 0 && { warnings }) };
}

/**
 * Every domain's status, and the TLS policy the edge applies to them. The projection may still
 * hold a domain removed a moment ago: the app's own list decides.
 */
export async function automationStatus(
  ports: Pick<Ports, 'events' | 'statuses'>,
  app: string,
): Promise<{ app: string; enabled: boolean; domains: DomainStatus[]; tlsPolicy: TlsPolicySetting }> {
  const { app: projected, rows } = await ports.statuses.readApp(app);
  // One Query; an app created a moment ago may not be projected yet: its log answers then.
  const own = projected ?? appRow(app, await requireApp(ports, app));
  const domains = rows.filter((row): row is DomainStatus => !isDatabaseRow(row) && own.domains.includes(row.hostname));
  return { app, enabled: own.acmEnabled, domains, tlsPolicy: own.tlsPolicy };
}

/** Every app the projection knows, in name order (operators'). */
export async function listApps(ports: Pick<Ports, 'statuses'>): Promise<AppRow[]> {
  const apps: AppRow[] = [];
  for await (const page of ports.statuses.listApps()) apps.push(...page);
  return apps;
}

/** A Failed domain gets a new attempt; a Failing one joins the execution already retrying it. */
export async function refresh(
  ports: AppPorts & Pick<Ports, 'statuses'>,
  app: string,
  correlationId: string,
): Promise<{ app: string; refreshed: string[]; executions: string[] }> {
  const state = await requireApp(ports, app);
  // With automation off there is nothing to retry: enabling it starts every domain again.
  if (!state.acmEnabled) return { app, refreshed: [], executions: [] };
  const refreshed = (await ports.statuses.readApp(app)).rows
    .filter((row) => !isDatabaseRow(row) && REFRESHABLE_STATUSES.includes(row.status) && state.domains.includes(row.hostname))
    .map((domain) => domain.hostname);
  const executions = await Promise.all(refreshed.map((hostname) => requestIssuance(ports, { app, hostname }, 'refresh', correlationId)));
  return { app, refreshed, executions };
}

async function requireDomainOf(ports: Pick<Ports, 'events'>, { app, hostname }: DomainRef): Promise<void> {
  if (!(await requireApp(ports, app)).domains.includes(hostname)) throw new NotFoundError(`${hostname} is not a domain of ${app}`);
}

/**
 * A domain named in a request, normalised like any hostname (case, trailing dot, IDN).
 * A name stored before the hostname rules tightened (an IP address) is still found as written, to be removed.
 */
async function domainNamed(ports: Pick<Ports, 'events'>, app: string, named: string): Promise<string> {
  const checked = checkHostname(named);
  if (checked.valid) return checked.hostname;
  const asWritten = named.trim().toLowerCase().replace(/\.$/, '');
  if ((await loadApp(ports, app)).domains.includes(asWritten)) return asWritten;
  throw new InvalidInputError('hostname', checked.rule);
}
