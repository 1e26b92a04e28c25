// The sweep (hourly in AWS, a timer locally): starts renewals that are due, spread
// over the jitter window, and tells owners about domains failing for days, once.
import middy from '@middy/core';
import { decide } from '../../domain/certificate-decider.ts';
import { streamIds } from '../../domain/events.ts';
import { dependencies, type Dependencies } from '../lib/dependencies.ts';
import { execute, type DomainRef } from '../lib/streams.ts';

export const handler = middy(async () => {
  const deps = dependencies();
  const now = new Date();
  const candidates = await deps.statuses.needingAttention(now, new Date(now.getTime() - deps.config.retryPolicy.notifyAfterMs));
  const outcomes = await Promise.all(candidates.map((ref) => attend(deps, ref)));
  return {
    looked: candidates.length,
    renewals: outcomes.filter((outcome) => outcome.renewal).length,
    notified: outcomes.filter((outcome) => outcome.notified).length,
  };
});

async function attend(deps: Dependencies, ref: DomainRef): Promise<{ renewal: boolean; notified: boolean }> {
  const correlationId = `sweep:${new Date().toISOString()}`;
  const renewal = await execute(deps, ref, { type: 'RenewIfDue' }, correlationId);
  // From the state, not from what this call appended: the next sweep starts a renewal a crash left unstarted
  // (the execution name makes a second start a no-op).
  const attempt = renewal.state.attempt;
  if (attempt && !attempt.closed && attempt.trigger === 'renewal' && !renewal.state.removed) {
    const startDelaySeconds = Math.floor(Math.random() * deps.config.renewalJitterSeconds);
    await deps.workflows().startIssuance({ ...ref, attempt: attempt.number, startDelaySeconds });
  }
  // Publish, then record: a crash in between repeats the notice (same id), it never loses it.
  const notify = { type: 'NotifyIfFailingTooLong' } as const;
  const { state } = renewal;
  if (decide(notify, state, new Date(), deps.config.retryPolicy).length === 0)
    return { renewal: renewal.appended.length > 0, notified: false };
  const failure = state.attempt?.failure;
  await deps.notifications().issuanceFailing({
    notificationId: `${streamIds.domain(ref.app, ref.hostname)}#failing#${state.failingSince}`,
    ...ref,
    failingSince: state.failingSince ?? '',
    ...(failure?.reason && { reason: failure.reason }),
    ...(failure?.message && { message: failure.message }),
  });
  await execute(deps, ref, notify, correlationId);
  return { renewal: renewal.appended.length > 0, notified: true };
}
