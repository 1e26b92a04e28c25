// The sweep (hourly in AWS, a timer locally): starts renewals that are due, spread
// over the jitter window, and tells owners about domains failing for days, once.
import { decide } from '../domain/certificate-decider.ts';
import { streamIds } from '../domain/events.ts';
import type { Ports } from './ports.ts';
import { execute, loadDomain, type DomainRef } from './streams.ts';

export type SweepPorts = Pick<Ports, 'events' | 'settings' | 'statuses' | 'workflows' | 'notifications' | 'ca'>;

export async function sweep(ports: SweepPorts): Promise<{ looked: number; renewals: number; notified: number }> {
  const now = new Date();
  const candidates = await ports.statuses.needingAttention(now, new Date(now.getTime() - ports.settings.retryPolicy.notifyAfterMs));
  const outcomes = await Promise.all(candidates.map((ref) => attend(ports, ref)));
  return {
    looked: candidates.length,
    renewals: outcomes.filter((outcome) => outcome.renewal).length,
    notified: outcomes.filter((outcome) => outcome.notified).length,
  };
}

async function attend(ports: SweepPorts, ref: DomainRef): Promise<{ renewal: boolean; notified: boolean }> {
  const correlationId = `sweep:${new Date().toISOString()}`;
  await checkRenewalInfo(ports, ref, correlationId);
  const renewal = await execute(ports, ref, { type: 'RenewIfDue' }, correlationId);
  // From the state, not from what this call appended: the next sweep starts a renewal a crash left unstarted
  // (the execution name makes a second start a no-op).
  const attempt = renewal.state.attempt;
  if (attempt && !attempt.closed && attempt.trigger === 'renewal' && !renewal.state.removed) {
    const startDelaySeconds = Math.floor(Math.random() * ports.settings.renewalJitterSeconds);
    await ports.workflows.startIssuance({ ...ref, attempt: attempt.number, startDelaySeconds });
  }
  // Publish, then record: a crash in between repeats the notice (same id), it never loses it.
  const notify = { type: 'NotifyIfFailingTooLong' } as const;
  const { state } = renewal;
  if (decide(notify, state, new Date(), ports.settings.retryPolicy).length === 0)
    return { renewal: renewal.appended.length > 0, notified: false };
  const failure = state.attempt?.failure;
  await ports.notifications.issuanceFailing({
    notificationId: `${streamIds.domain(ref.app, ref.hostname)}#failing#${state.failingSince}`,
    ...ref,
    failingSince: state.failingSince ?? '',
    ...(failure?.reason && { reason: failure.reason }),
    ...(failure?.message && { message: failure.message }),
  });
  await execute(ports, ref, notify, correlationId);
  return { renewal: renewal.appended.length > 0, notified: true };
}

/** Twice a day (or when the CA's Retry-After says), the CA's renewal window for the serving certificate. */
async function checkRenewalInfo(ports: SweepPorts, ref: DomainRef, correlationId: string): Promise<void> {
  const certificate = (await loadDomain(ports, ref)).certificate;
  if (!certificate?.ariId || Date.parse(certificate.renewalCheckAt ?? '') > Date.now()) return;
  const { ariId } = certificate;
  // The CA unreachable: the fixed rule's time stands, and the next sweep asks again.
  const info = await ports.ca.renewalInfo(ariId).then(
    (answer) => answer ?? {},
    (error: unknown) => {
      console.error(JSON.stringify({ renewalInfo: ariId, ...ref, error: String(error) }));
      return undefined;
    },
  );
  if (info) await execute(ports, ref, { type: 'RecordRenewalInfo', ariId, ...info, random: Math.random() }, correlationId);
}
