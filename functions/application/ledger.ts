// The rate-limit ledger: a bucket per Let's Encrypt limit and key, each an event stream
// whose last event is its state. An order takes its tokens in the same transaction that
// records it on the domain's stream, so concurrent workflows can never overspend a
// bucket, and a retried step never pays twice. The certificate buckets are taken when
// the order goes out (the CA counts them at issuance): a reservation, so orders in
// flight never overshoot; one that fails keeps them spent until they refill.
import { accountInUse } from '../domain/ca-account.ts';
import { decide, fold } from '../domain/certificate-decider.ts';
import { streamIds, type BucketEvent, type DomainEvent, type RecordedEvent } from '../domain/events.ts';
import {
  bucketId,
  bucketNamedBy,
  bucketsForOrder,
  decideOrder,
  emissionIntervalMs,
  exactSetBucket,
  spend,
  tokensLeft,
  failedAuthorizationsBucket,
  spendAnyway,
  stateRefillingAt,
  type Bucket,
  type BucketState,
  type OrderDecision,
  type OrderRequest,
} from '../domain/rate-limits.ts';
import { registeredDomainOf } from '../domain/registered-domain.ts';
import type { EventLog } from './ports.ts';
import { afterConflict, type DomainRef } from './streams.ts';

export async function takeOrderBudget(
  ports: EventLog,
  ref: DomainRef,
  attempt: number,
  request: OrderRequest,
  correlationId: string,
  /** The domain's stream as the step just read it: not read again unless an append conflicts. */
  known?: RecordedEvent<DomainEvent>[],
): Promise<OrderDecision> {
  const { spend: spending, check } = bucketsForOrder(request);
  const domainStream = streamIds.domain(ref.app, ref.hostname);
  for (let conflicts = 0; ; conflicts++) {
    const history = (conflicts === 0 && known) || (await ports.events.read<DomainEvent>(domainStream));
    const taken = decide({ type: 'TakeOrderBudget', attempt, kind: request.kind }, fold(history), new Date(), ports.settings.retryPolicy);
    // Taken by an earlier run of this step: the order goes out on those tokens.
    if (taken.length === 0) return { allowed: true, spent: [] };
    const buckets = await readBuckets(ports, [...spending, ...check]);
    const now = Date.now();
    const decision = decideOrder(ports.settings.rateLimits, buckets.states, request, now);
    if (!decision.allowed) return decision;
    const writes = [
      { streamId: domainStream, expectedVersion: history.length, events: taken },
      ...decision.spent.map(({ bucket, state }) => ({
        streamId: streamIds.bucket(bucketId(bucket)),
        expectedVersion: buckets.versions.get(bucketId(bucket)) ?? 0,
        events: [{ type: 'RateLimitTokenTaken', data: { tat: iso(state.tat) } } as const],
      })),
    ];
    try {
      await ports.events.append(writes, { at: iso(now), correlationId });
      return decision;
    } catch (error) {
      await afterConflict(error, conflicts);
    }
  }
}

/** The CA refused with a rate limit: the bucket it names refills when the CA says, whatever we believed. */
export async function correctLedger(
  ports: EventLog,
  request: OrderRequest,
  problem: { detail?: string; retryAfter: string },
  correlationId: string,
): Promise<void> {
  const bucket = bucketNamedBy(problem.detail ?? '', request);
  if (!bucket) return;
  const { tat } = stateRefillingAt(ports.settings.rateLimits[bucket.limit], Date.parse(problem.retryAfter));
  await updateBucket(
    ports,
    bucket,
    () => ({ type: 'RateLimitReportedByCa', data: { tat: iso(tat), retryAfter: problem.retryAfter } }),
    correlationId,
  );
}

/** A validation the CA refused spends the name's failed-authorizations bucket, as the CA counts it. */
export function recordFailedAuthorization(ports: EventLog, accountUrl: string, name: string, correlationId: string): Promise<void> {
  return spendAnywayFrom(ports, failedAuthorizationsBucket(accountUrl, name), correlationId);
}

/** An ARI renewal was exempt from every check, but its certificate counts for its exact names, as the CA counts it. */
export function countIssued(ports: EventLog, names: readonly string[], correlationId: string): Promise<void> {
  return spendAnywayFrom(ports, exactSetBucket(names), correlationId);
}

function spendAnywayFrom(ports: EventLog, bucket: Bucket, correlationId: string): Promise<void> {
  const limit = ports.settings.rateLimits[bucket.limit];
  return updateBucket(
    ports,
    bucket,
    (state, now) => ({ type: 'RateLimitTokenTaken', data: { tat: iso(spendAnyway(limit, state, now).tat) } }),
    correlationId,
  );
}

/** Appends one event to a bucket decided from its current state, again if another writer got there first. */
async function updateBucket(
  ports: EventLog,
  bucket: Bucket,
  next: (state: BucketState | undefined, now: number) => BucketEvent,
  correlationId: string,
): Promise<void> {
  const streamId = streamIds.bucket(bucketId(bucket));
  for (let conflicts = 0; ; conflicts++) {
    const last = await ports.events.readLast<BucketEvent>(streamId);
    const now = Date.now();
    const events = [next(last && { tat: Date.parse(last.data.tat) }, now)];
    try {
      await ports.events.append([{ streamId, expectedVersion: last?.version ?? 0, events }], { at: iso(now), correlationId });
      return;
    } catch (error) {
      await afterConflict(error, conflicts);
    }
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The buckets as the ledger knows them now: each one's state, and the version its stream is at. */
async function readBuckets(
  ports: Pick<EventLog, 'events'>,
  buckets: Bucket[],
): Promise<{ states: Map<string, BucketState>; versions: Map<string, number> }> {
  const lasts = await Promise.all(buckets.map((bucket) => ports.events.readLast<BucketEvent>(streamIds.bucket(bucketId(bucket)))));
  const states = new Map<string, BucketState>();
  const versions = new Map<string, number>();
  buckets.forEach((bucket, index) => {
    const last = lasts[index];
    if (!last) return;
    states.set(bucketId(bucket), { tat: Date.parse(last.data.tat) });
    versions.set(bucketId(bucket), last.version);
  });
  return { states, versions };
}

export async function bucketStates(ports: Pick<EventLog, 'events'>, buckets: Bucket[]): Promise<Map<string, BucketState>> {
  return (await readBuckets(ports, buckets)).states;
}

export interface LimitsReport {
  /** The ACME account the fleet orders with, once the first order recorded it. */
  accountUrl?: string;
  limits: Array<{ name: string; capacity: number; periodSeconds: number; refillSeconds: number }>;
  buckets: Array<{ limit: string; key: string; capacity: number; tokensLeft: number; nextTokenAt?: string; fullAt?: string }>;
}

/** What operators read: the limits kept to, the account's bucket, and a name's buckets when asked. */
export async function limitsReport(ports: Pick<EventLog, 'events' | 'settings'>, hostname?: string): Promise<LimitsReport> {
  const limits = ports.settings.rateLimits;
  const accountUrl = accountInUse(await ports.events.read(streamIds.caAccount()));
  const buckets: Bucket[] = [
    ...(accountUrl ? [{ limit: 'newOrdersPerAccount', key: accountUrl } as const] : []),
    ...(hostname
      ? ([
          { limit: 'certificatesPerRegisteredDomain', key: registeredDomainOf(hostname) },
          exactSetBucket([hostname]),
          ...(accountUrl ? [failedAuthorizationsBucket(accountUrl, hostname)] : []),
        ] as const)
      : []),
  ];
  const states = await bucketStates(ports, buckets);
  const now = Date.now();
  return {
    ...(accountUrl && { accountUrl }),
    limits: Object.entries(limits).map(([name, limit]) => ({
      name,
      capacity: limit.capacity,
      periodSeconds: limit.periodMs / 1000,
      refillSeconds: emissionIntervalMs(limit) / 1000,
    })),
    buckets: buckets.map((bucket) => {
      const limit = limits[bucket.limit];
      const state = states.get(bucketId(bucket));
      const left = tokensLeft(limit, state, now);
      const next = spend(limit, state, now);
      return {
        ...bucket,
        capacity: limit.capacity,
        tokensLeft: left,
        ...(!next.allowed && { nextTokenAt: iso(next.refillsAt) }),
        ...(state && state.tat > now && { fullAt: iso(state.tat) }),
      };
    }),
  };
}
