// Let's Encrypt's rate limits as token buckets, with the arithmetic Boulder uses (GCRA:
// a bucket is one instant, its theoretical arrival time). Pure: the ledger keeps the
// instants, this decides whether an order may go out now and, if not, exactly when.
import { failure, type Failure } from './failure-reasons.ts';
import { registeredDomainOf } from './registered-domain.ts';

/** The ledger names registered-domain buckets by it; tldts stays in registered-domain.ts, out of what imports only limits. */

export type LimitName =
  | 'newOrdersPerAccount'
  | 'certificatesPerRegisteredDomain'
  | 'certificatesPerExactSet'
  | 'failedAuthorizationsPerIdentifier'
  /** Ours, not the CA's: one app's share of the account's new orders, so a burst on one app leaves room for the others. */
  | 'newOrdersPerApp';

/** `capacity` tokens, refilled evenly over `periodMs`: one back every periodMs / capacity. */
export interface Limit {
  capacity: number;
  periodMs: number;
}

export type Limits = Record<LimitName, Limit>;

const HOUR_MS = 60 * 60_000;
const DAY_MS = 24 * HOUR_MS;

/** Let's Encrypt's published values (2026), and our fair share per app: a third of the account's new orders. */
export const LETS_ENCRYPT_LIMITS: Limits = {
  newOrdersPerAccount: { capacity: 300, periodMs: 3 * HOUR_MS },
  certificatesPerRegisteredDomain: { capacity: 50, periodMs: 7 * DAY_MS },
  certificatesPerExactSet: { capacity: 5, periodMs: 7 * DAY_MS },
  failedAuthorizationsPerIdentifier: { capacity: 5, periodMs: HOUR_MS },
  newOrdersPerApp: { capacity: 100, periodMs: 3 * HOUR_MS },
};

/** A bucket's state: its theoretical arrival time (ms). A bucket never used, or with a TAT in the past, is full. */
export interface BucketState {
  tat: number;
}

export interface Bucket {
  limit: LimitName;
  /** What it counts: an account URL, a registered domain, a set of names, an account and a name. */
  key: string;
}

export function emissionIntervalMs(limit: Limit): number {
  return limit.periodMs / limit.capacity;
}

/** Whole tokens left now. */
export function tokensLeft(limit: Limit, state: BucketState | undefined, now: number): number {
  const tat = Math.max(state?.tat ?? now, now);
  return Math.min(limit.capacity, Math.floor((now - (tat - limit.periodMs)) / emissionIntervalMs(limit)));
}

export type Spend = { allowed: true; state: BucketState } | { allowed: false; refillsAt: number };

/** Takes `cost` tokens if there are that many; otherwise says when there will be. */
export function spend(limit: Limit, state: BucketState | undefined, now: number, cost = 1): Spend {
  const newTat = nextTat(limit, state, now, cost);
  const allowedFrom = newTat - limit.periodMs;
  return now >= allowedFrom ? { allowed: true, state: { tat: newTat } } : { allowed: false, refillsAt: Math.ceil(allowedFrom) };
}

/** Takes a token whether or not one is left: what the CA counted, it counted (an issued certificate, a failed validation). */
export function spendAnyway(limit: Limit, state: BucketState | undefined, now: number): BucketState {
  return { tat: nextTat(limit, state, now) };
}

/** GCRA: the instant after `cost` more tokens, counted from now when the bucket is full. */
function nextTat(limit: Limit, state: BucketState | undefined, now: number, cost = 1): number {
  return Math.max(state?.tat ?? now, now) + cost * emissionIntervalMs(limit);
}

/** How an order relates to certificates the fleet already has: Let's Encrypt exempts renewals, ARI ones from everything. */
export type OrderKind = 'new' | 'renewal' | 'ari-renewal';

export interface OrderRequest {
  accountUrl: string;
  names: readonly string[];
  kind: OrderKind;
  /** The app ordering: its new orders also draw on its share of the account's. */
  app?: string;
}

/**
 * The buckets an order draws on. `spend`: taken when it is sent (the certificate
 * buckets too: a reservation, so that orders in flight never overshoot). `check`:
 * must have a token, spent only by what they count (failed validations).
 */
export function bucketsForOrder({ accountUrl, names, kind, app }: OrderRequest): { spend: Bucket[]; check: Bucket[] } {
  const check = names.map((name) => failedAuthorizationsBucket(accountUrl, name));
  // An ARI renewal is checked against nothing (its certificate still counts once issued: exactSetBucket).
  if (kind === 'ari-renewal') return { spend: [], check: [] };
  const exactSet = exactSetBucket(names);
  // A renewal of the exact same names is exempt from the per-account and per-registered-domain buckets.
  if (kind === 'renewal') return { spend: [exactSet], check };
  const registeredDomains = [...new Set(names.map(registeredDomainOf))];
  return {
    spend: [
      ...(app === undefined ? [] : [{ limit: 'newOrdersPerApp', key: app } as const]),
      { limit: 'newOrdersPerAccount', key: accountUrl },
      ...registeredDomains.map((domain): Bucket => ({ limit: 'certificatesPerRegisteredDomain', key: domain })),
      exactSet,
    ],
    check,
  };
}

/** The bucket every issued certificate counts against, ARI renewals included, as the CA counts it. */
export function exactSetBucket(names: readonly string[]): Bucket {
  return { limit: 'certificatesPerExactSet', key: exactSetKey(names) };
}

export function failedAuthorizationsBucket(accountUrl: string, name: string): Bucket {
  return { limit: 'failedAuthorizationsPerIdentifier', key: `${accountUrl} ${name}` };
}

export function exactSetKey(names: readonly string[]): string {
  return [...new Set(names.map((name) => name.toLowerCase()))].sort().join(',');
}

export function bucketId({ limit, key }: Bucket): string {
  return `${limit}#${key}`;
}

export type OrderDecision =
  | { allowed: true; spent: Array<{ bucket: Bucket; state: BucketState }> }
  /** The bucket that refills last decides when the order may go: then every bucket has its token. */
  | { allowed: false; bucket: Bucket; refillsAt: number };

/** May this order go out now, against the buckets as the ledger knows them? */
export function decideOrder(limits: Limits, states: ReadonlyMap<string, BucketState>, request: OrderRequest, now: number): OrderDecision {
  const { spend: spending, check } = bucketsForOrder(request);
  const spent: Array<{ bucket: Bucket; state: BucketState }> = [];
  let refused: { bucket: Bucket; refillsAt: number } | undefined;
  for (const bucket of [...spending, ...check]) {
    const outcome = spend(limits[bucket.limit], states.get(bucketId(bucket)), now);
    if (!outcome.allowed) {
      if (!refused || outcome.refillsAt > refused.refillsAt) refused = { bucket, refillsAt: outcome.refillsAt };
    } else if (spending.includes(bucket)) spent.push({ bucket, state: outcome.state });
  }
  return refused ? { allowed: false, ...refused } : { allowed: true, spent };
}

const LIMIT_WORDS: Record<LimitName, string> = {
  newOrdersPerAccount: 'new orders for our account',
  certificatesPerRegisteredDomain: 'certificates per registered domain',
  certificatesPerExactSet: 'certificates for the exact same names',
  failedAuthorizationsPerIdentifier: 'failed validations per name',
  newOrdersPerApp: 'new orders per app (its fair share of our account)',
};

/** What a person reads while the ledger holds an order back. */
export function orderDeferred(limits: Limits, hostname: string, bucket: Bucket, until: string): Failure {
  const { capacity, periodMs } = limits[bucket.limit];
  return failure(
    'RATE_LIMITED',
    `Ordering for ${hostname} now would go over the CA's limit of ${capacity} ${LIMIT_WORDS[bucket.limit]} per ${duration(periodMs)} ` +
      `(${bucket.key}). Our ledger predicted it, so the CA was not asked: the order waits until ${until}, when the budget refills.`,
    'It goes out then by itself.',
  );
}

/** The state that makes a bucket refill at `at`: what a CA's Retry-After says about it. */
export function stateRefillingAt(limit: Limit, at: number): BucketState {
  return { tat: at + limit.periodMs - emissionIntervalMs(limit) };
}

/** Which of an order's buckets a CA's rateLimited detail names (Let's Encrypt's wording), if one. */
export function bucketNamedBy(detail: string, request: OrderRequest): Bucket | undefined {
  const { spend: spending, check } = bucketsForOrder({ ...request, kind: 'new' });
  const all = [...spending, ...check];
  const limit: LimitName | undefined = /new orders/i.test(detail)
    ? 'newOrdersPerAccount'
    : /exact set|exact same/i.test(detail)
      ? 'certificatesPerExactSet'
      : /failed authorizations?/i.test(detail)
        ? 'failedAuthorizationsPerIdentifier'
        : /certificates .*registered domain|too many certificates/i.test(detail)
          ? 'certificatesPerRegisteredDomain'
          : undefined;
  return all.find((bucket) => bucket.limit === limit);
}

function duration(ms: number): string {
  const [unit, size] = ms % (24 * HOUR_MS) === 0 ? ['day', 24 * HOUR_MS] : ms % HOUR_MS === 0 ? ['hour', HOUR_MS] : ['minute', 60_000];
  const count = ms / (size as number);
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}

/** What turning automation off costs if it is turned on again soon: a new certificate for the same names. */
export function reorderWarning(limits: Limits, hostname: string, left: number): string {
  const { capacity, periodMs } = limits.certificatesPerExactSet;
  const refill = emissionIntervalMs(limits.certificatesPerExactSet) / HOUR_MS;
  return (
    `Turning automated certificates on again within ${duration(periodMs)} orders a new certificate for ${hostname}: ` +
    `${left} of ${capacity} are left this week for its exact names (one more every ${Number(refill.toFixed(1))} hours).`
  );
}
