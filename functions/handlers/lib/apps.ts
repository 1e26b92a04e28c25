// What apps do, shared by the API and the platform's events: add and remove domains,
// turn automation on and off, delete an app. Each change is one transaction over the
// streams it touches; workflows and certificates follow from what was recorded.
import { decideApp, decideClaim, foldApp, foldClaim, type AppCommand, type AppState } from '../../domain/app-decider.ts';
import { decide, fold, type DomainState } from '../../domain/certificate-decider.ts';
import {
  streamIds,
  type ClaimEvent,
  type IssuanceTrigger,
  type RecordedEvent,
  type StreamEvent,
} from '../../domain/events.ts';
import type { Dependencies } from './dependencies.ts';
import { appHistory, domainHistory, execute, loadApp, loadDomain, transact, type DomainRef } from './streams.ts';

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
function transactOnce<K extends string>(
  deps: Dependencies,
  streams: Record<K, string>,
  decideAll: Decision<K>,
  correlationId: string,
  origin: PlatformOrigin | undefined,
  subject: { app: string; hostname?: string },
) {
  if (!origin) return transact(deps, streams, decideAll, correlationId);
  const received: StreamEvent = { type: 'PlatformEventReceived', data: { detailType: origin.detailType, ...subject } };
  return transact<K | 'receipt'>(
    deps,
    { ...streams, receipt: streamIds.receipt(origin.eventId) },
    (histories, now) => (histories.receipt.length > 0 ? {} : { ...decideAll(histories, now), receipt: [received] }),
    correlationId,
  );
}

/** A platform event handled before: its side effects (certificates, executions) must not run again either. */
async function alreadyHandled(deps: Dependencies, origin: PlatformOrigin | undefined): Promise<boolean> {
  return origin !== undefined && (await deps.events.read(streamIds.receipt(origin.eventId))).length > 0;
}

const domainStreams = (ref: DomainRef) => ({
  app: streamIds.app(ref.app),
  claim: streamIds.hostname(ref.hostname),
  domain: streamIds.domain(ref.app, ref.hostname),
});

export async function addDomain(
  deps: Dependencies,
  ref: DomainRef & { dnsTarget: string },
  correlationId: string,
  origin?: PlatformOrigin,
): Promise<void> {
  const policy = deps.config.retryPolicy;
  const { histories, appended } = await transactOnce(
    deps,
    domainStreams(ref),
    (histories, now) => {
      const app = foldApp(appHistory(histories.app));
      const domain = fold(domainHistory(histories.domain));
      const added = decide({ type: 'AddDomain', ...ref, ...(origin && { platformEventTime: origin.time }) }, domain, now, policy);
      if (added.length === 0) return {};
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
  const domain = fold(domainHistory([...histories.domain, ...appended.domain]));
  if (domain.attempt && !domain.attempt.closed && !domain.removed) await deps.workflows().startIssuance({ ...ref, attempt: domain.attempt.number });
}

export async function removeDomain(
  deps: Dependencies,
  ref: DomainRef,
  reason: 'removed' | 'app-deleted',
  correlationId: string,
  origin?: PlatformOrigin,
): Promise<void> {
  if (await alreadyHandled(deps, origin)) return;
  const command = { type: 'RemoveDomain', reason, ...(origin && { platformEventTime: origin.time }) } as const;
  const before = await loadDomain(deps, ref);
  const removes = decide(command, before, new Date(), deps.config.retryPolicy).length > 0;
  // The certificate goes first: a removal recorded with its certificate still installed would leave it behind.
  if (removes && before.certificate) await deps.certificates.remove(before.certificate.certificateArn);
  await transactOnce(
    deps,
    domainStreams(ref),
    (histories, now) => {
      const domain = decide(command, fold(domainHistory(histories.domain)), now, deps.config.retryPolicy);
      // A late removal (older than the add recorded) changes nothing anywhere.
      if (domain.length === 0) return {};
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
  if (removes) await stopRunningAttempt(deps, ref, before);
}

/** Opens an attempt (or joins the open one) and starts its workflow; the execution name makes the start idempotent. */
export async function requestIssuance(
  deps: Dependencies,
  ref: DomainRef,
  trigger: IssuanceTrigger,
  correlationId: string,
): Promise<string> {
  const { state } = await execute(deps, ref, { type: 'RequestIssuance', trigger }, correlationId);
  const { executionName } = await deps.workflows().startIssuance({ ...ref, attempt: state.attempt?.number ?? 1 });
  return executionName;
}

const TURNS_AUTOMATION_OFF = new Set<AppCommand['type']>(['DisableAcm', 'UploadCertificate', 'RemoveUploadedCertificate']);

/** Runs an app command; when it turned automation off or on, the domains follow. */
export async function changeApp(deps: Dependencies, app: string, command: AppCommand, correlationId: string): Promise<AppState> {
  const { histories, appended } = await transact(
    deps,
    { app: streamIds.app(app) },
    ({ app: history }) => ({ app: decideApp(command, foldApp(appHistory(history))) }),
    correlationId,
  );
  const state = foldApp(appHistory([...histories.app, ...appended.app]));
  // From the state, not from what this call appended: a retried request finishes the job.
  if (!state.acmEnabled && TURNS_AUTOMATION_OFF.has(command.type)) await automationOff(deps, app, state.domains, correlationId);
  else if (command.type === 'EnableAcm') await automationOn(deps, app, state.domains, correlationId);
  return state;
}

/** Running workflows stop and managed certificates are removed. */
async function automationOff(deps: Dependencies, app: string, domains: string[], correlationId: string): Promise<void> {
  for (const hostname of domains) {
    const ref = { app, hostname };
    const domain = await loadDomain(deps, ref);
    await stopRunningAttempt(deps, ref, domain);
    if (domain.certificate) await deps.certificates.remove(domain.certificate.certificateArn);
    await execute(deps, ref, { type: 'TurnAutomationOff' }, correlationId);
  }
}

async function automationOn(deps: Dependencies, app: string, domains: string[], correlationId: string): Promise<void> {
  for (const hostname of domains) {
    const ref = { app, hostname };
    if (!(await loadDomain(deps, ref)).certificate) await requestIssuance(deps, ref, 'acm-enabled', correlationId);
  }
}

export async function deleteApp(deps: Dependencies, app: string, correlationId: string, origin?: PlatformOrigin): Promise<void> {
  if (await alreadyHandled(deps, origin)) return;
  const state = await loadApp(deps, app);
  for (const hostname of state.domains) await removeDomain(deps, { app, hostname }, 'app-deleted', correlationId);
  for (const upload of Object.values(state.uploads)) await deps.certificates.remove(upload.certificateArn);
  await transactOnce(
    deps,
    { app: streamIds.app(app) },
    (histories) => ({ app: decideApp({ type: 'DeleteApp' }, foldApp(appHistory(histories.app))) }),
    correlationId,
    origin,
    { app },
  );
}

async function stopRunningAttempt(deps: Dependencies, ref: DomainRef, state: DomainState): Promise<void> {
  if (state.attempt && !state.attempt.closed) await deps.workflows().stopIssuance({ ...ref, attempt: state.attempt.number });
}

export function dnsTargetFor(app: string, deps: Dependencies): string {
  return `${app}.${deps.config.dnsTargetSuffix}`;
}
