// The sweep (hourly in AWS, a timer locally): starts renewals that are due, spread
// over the jitter window, tells owners about domains failing for days and certificates
// close to expiry, once each, and reconciles: an open attempt that no execution runs (lost to a crash, a failed start,
// a timeout) is started again, level-triggered, from what its log says.
import { decideApp, foldApp } from '../domain/app-decider.ts';
import { decide, type DomainState } from '../domain/certificate-decider.ts';
import { streamIds } from '../domain/events.ts';
import { DomainNotFoundError, StaleAttemptError } from '../domain/errors.ts';
import { daysToExpiry } from '../domain/figures.ts';
import { currentExecution } from '../domain/issuance.ts';
import { removeCertificate } from './apps.ts';
import type { Ports } from './ports.ts';
import { appHistory, execute, loadDomain, transact, type DomainRef } from './streams.ts';
import { notificationIds } from '../domain/notices.ts';

export type SweepPorts = Pick<
  Ports,
  'events' | 'settings' | 'statuses' | 'workflows' | 'notifications' | 'ca' | 'certificates' | 'log' | 'measure'
>;

/** Domains attended to at once: small runs, so the CA and the log see a trickle, not a burst. */
const RUN_SIZE = 25;
/** A sweep hands what is left to the next one rather than run into its Lambda's timeout (5 minutes). */
const SWEEP_BUDGET_MS = 4 * 60_000;
/**
 * An attempt opened this recently may not have had its execution started yet (the start follows
 * the append): left to the next sweep. At the local cloud's start-up nothing runs yet: 0.
 */
export const RECONCILE_GRACE_MS = 2 * 60_000;

export interface SweepOptions {
  reconcileGraceMs?: number;
}

/**
 * Walks the sparse index of what is due, page by page, in small runs. Each domain's
 * decisions come from its log and each start is idempotent: a sweep that dies half-way
 * repeats nothing, and what it did not reach is still due for the next one.
 */
export async function sweep(
  ports: SweepPorts,
  { reconcileGraceMs = RECONCILE_GRACE_MS }: SweepOptions = {},
): Promise<{ looked: number; renewals: number; notified: number; restarted: number; complete: boolean }> {
  const started = Date.now();
  const totals = { looked: 0, renewals: 0, notified: 0, restarted: 0, complete: true };
  for await (const page of ports.statuses.due(new Date(started))) {
    for (let index = 0; index < page.length; index += RUN_SIZE) {
      if (Date.now() - started > SWEEP_BUDGET_MS) return { ...totals, complete: false };
      const outcomes = await Promise.all(
        page
          .slice(index, index + RUN_SIZE)
          .map((ref) => (ref.kind === 'app' ? attendApp(ports, ref.app) : attend(ports, ref, reconcileGraceMs))),
      );
      totals.looked += outcomes.length;
      totals.renewals += outcomes.filter((outcome) => outcome.renewal).length;
      totals.notified += outcomes.filter((outcome) => outcome.notified).length;
      totals.restarted += outcomes.filter((outcome) => outcome.restarted).length;
    }
  }
  return totals;
}

/** One read of the stream decides the removals and the ARI look; RenewIfDue's own read decides the rest. */
async function attend(
  ports: SweepPorts,
  ref: DomainRef,
  reconcileGraceMs: number,
): Promise<{ renewal: boolean; notified: boolean; restarted: boolean }> {
  const correlationId = `sweep:${new Date().toISOString()}`;
  const before = await loadDomain(ports, ref);
  await retryRemovals(ports, ref, before, correlationId);
  await checkRenewalInfo(ports, ref, before, correlationId);
  const renewal = await execute(ports, ref, { type: 'RenewIfDue' }, correlationId);
  // Every certificate the sweep looks at is due for something: its days left, so the alarm sees the soonest.
  const serving = renewal.state.certificate;
  if (serving && !renewal.state.removed) ports.measure.value('DaysToExpiry', daysToExpiry(serving.notAfter, new Date()));
  // From the state, not from what this call appended: the next sweep starts a renewal a crash left unstarted
  // (the execution name makes a second start a no-op).
  const attempt = renewal.state.attempt;
  if (attempt && !attempt.closed && attempt.trigger === 'renewal' && !renewal.state.removed) {
    const startDelaySeconds = Math.floor(Math.random() * ports.settings.renewalJitterSeconds);
    // At the try it is on: after a restart of the runner this starts the renewal's execution again.
    await ports.workflows.startIssuance({ ...currentExecution(ref, attempt), startDelaySeconds, failure: { failures: attempt.failures } });
  }
  // After that start: a renewal this sweep opened runs, and is not restarted as lost.
  const restarted = await reconcile(ports, ref, renewal.state, reconcileGraceMs);
  const failing = await notifyFailing(ports, ref, renewal.state, correlationId);
  const expiring = await notifyExpiring(ports, ref, renewal.state, correlationId);
  return { renewal: renewal.appended.length > 0, notified: failing || expiring, restarted };
}

// Each notice is published, then recorded: a crash in between repeats it (same id), it is never lost.

async function notifyFailing(ports: SweepPorts, ref: DomainRef, state: DomainState, correlationId: string): Promise<boolean> {
  const notify = { type: 'NotifyIfFailingTooLong' } as const;
  if (decide(notify, state, new Date(), ports.settings.retryPolicy).length === 0) return false;
  const failure = state.attempt?.failure;
  const failingSince = state.failingSince ?? '';
  await ports.notifications.issuanceFailing({
    notificationId: notificationIds.failing(streamIds.domain(ref.app, ref.hostname), failingSince),
    ...ref,
    failingSince,
    ...(failure?.reason && { reason: failure.reason }),
    ...(failure?.message && { message: failure.message }),
  });
  await execute(ports, ref, notify, correlationId);
  return true;
}

/** A managed certificate still serving this close to expiry is not renewing: its owners are told why. */
async function notifyExpiring(ports: SweepPorts, ref: DomainRef, state: DomainState, correlationId: string): Promise<boolean> {
  const notify = { type: 'NotifyIfExpiring' } as const;
  const [sent] = decide(notify, state, new Date(), ports.settings.retryPolicy);
  if (sent?.type !== 'ExpiryNoticeSent') return false;
  const failure = state.attempt?.failure;
  await ports.notifications.certificateExpiring({
    ...sent.data,
    ...ref,
    managed: true,
    ...(failure?.reason && { reason: failure.reason }),
    ...(failure?.message && { message: failure.message }),
  });
  await execute(ports, ref, notify, correlationId);
  return true;
}

/** An app is due when one of its uploaded certificates nears expiry: nobody renews those for its owners. */
async function attendApp(ports: SweepPorts, app: string): Promise<{ renewal: boolean; notified: boolean; restarted: boolean }> {
  const correlationId = `sweep:${new Date().toISOString()}`;
  const history = await ports.events.read(streamIds.app(app));
  const due = decideApp({ type: 'NotifyIfUploadsExpiring', app, now: new Date() }, foldApp(appHistory(history)));
  for (const sent of due) {
    if (sent.type !== 'UploadExpiryNoticeSent') continue;
    const { name, ...notice } = sent.data;
    await ports.notifications.certificateExpiring({ ...notice, app, managed: false, certificateName: name });
  }
  if (due.length > 0) {
    await transact(
      ports,
      { app: streamIds.app(app) },
      ({ app: read }, now) => ({ app: decideApp({ type: 'NotifyIfUploadsExpiring', app, now }, foldApp(appHistory(read))) }),
      correlationId,
      // Published from this read: recorded on it too, unless the stream moved on meanwhile.
      { app: history },
    );
  }
  return { renewal: false, notified: due.length > 0, restarted: false };
}

/** Certificates still to delete (in use when their domain went) get another try once their time has come. */
async function retryRemovals(ports: SweepPorts, ref: DomainRef, state: DomainState, correlationId: string): Promise<void> {
  const due = state.pendingRemovals.filter((removal) => Date.parse(removal.retryAt) <= Date.now());
  for (const { certificateArn } of due) {
    const deferred = await removeCertificate(ports, certificateArn);
    await execute(ports, ref, { type: 'RecordCertificateRemoval', certificateArn, ...(deferred && { deferred }) }, correlationId);
  }
}

/** An open attempt with no live execution gets a new one, resuming at the try it was on. */
async function reconcile(ports: SweepPorts, ref: DomainRef, state: DomainState, graceMs: number): Promise<boolean> {
  const attempt = state.attempt;
  if (!attempt || attempt.closed || state.removed || Date.now() - Date.parse(state.updatedAt ?? '') < graceMs) return false;
  if (await ports.workflows.isRunning(currentExecution(ref, attempt))) return false;
  const correlationId = `reconciler:${new Date().toISOString()}`;
  const command = { type: 'RestartExecution', attempt: attempt.number, checkedRestarts: attempt.restarts } as const;
  let restarted;
  try {
    restarted = await execute(ports, ref, command, correlationId);
  } catch (error) {
    // Removed, or a newer attempt opened, since it was read: nothing left to restart.
    if (error instanceof DomainNotFoundError || error instanceof StaleAttemptError) return false;
    throw error;
  }
  const resumed = restarted.state.attempt;
  // Only the reconciler that recorded the restart starts it.
  if (restarted.appended.length === 0 || !resumed || resumed.closed) return false;
  await ports.workflows.startIssuance({ ...currentExecution(ref, resumed), failure: { failures: resumed.failures } });
  return true;
}

/** Twice a day (or when the CA's Retry-After says), the CA's renewal window for the serving certificate. */
async function checkRenewalInfo(ports: SweepPorts, ref: DomainRef, state: DomainState, correlationId: string): Promise<void> {
  const certificate = state.certificate;
  if (!certificate?.ariId || Date.parse(certificate.renewalCheckAt ?? '') > Date.now()) return;
  const { ariId } = certificate;
  // The CA unreachable: the fixed rule's time stands, and the next sweep asks again.
  const info = await ports.ca.renewalInfo(ariId).then(
    (answer) => answer ?? {},
    (error: unknown) => {
      ports.log.warn('renewal information unavailable: the fixed renewal time stands', { ariId, ...ref, error: String(error) });
      return undefined;
    },
  );
  if (info) await execute(ports, ref, { type: 'RecordRenewalInfo', ariId, ...info, random: Math.random() }, correlationId);
}
