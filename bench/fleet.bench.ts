// `npm run bench:fleet [-- --quick] [-- --certificates N] [-- --seed S]`: a whole fleet
// over three simulated years, on the same pure decisions the service runs (the ledger's
// buckets, the renewal rule and ARI window choice, the retry backoff), against a
// simulated CA that applies Let's Encrypt's buckets and exemptions. No servers.
//
// What is simulated, and what is folded:
// - Lifetimes shrink as Let's Encrypt announced: 90 days, 64 from 2027-02-10, 45 from 2028-02-16.
// - ARI: the CA suggests a window in the last third of each certificate's lifetime; the
//   service draws its renewal time inside it. Looks at ARI (twice a day) are folded: a
//   window only changes in the drill, and the service hears of it at its next look, a
//   uniformly random moment in the 12 hours after the move.
// - The drill: on one day 10% of the fleet's windows move to [now, now + 24 h].
// - 0.5% of validations fail; the attempt retries with the service's backoff.
// - New domains arrive daily, and one customer adds 2,000 subdomains of one registered
//   domain within an hour: the per-registered-domain bucket makes them wait, in turn.
import { parseArgs } from 'node:util';
import { retryDelayMs, type RetryPolicy } from '../functions/domain/certificate-decider.ts';
import { DEFAULT_SETTINGS } from '../functions/application/ports.ts';
import {
  bucketId,
  bucketsForOrder,
  decideOrder,
  exactSetBucket,
  LETS_ENCRYPT_LIMITS,
  spendAnyway,
  type BucketState,
  type OrderKind,
} from '../functions/domain/rate-limits.ts';
import { chooseRenewalTime, fallbackRenewsAt } from '../functions/domain/renewal.ts';
import { seededRandom } from './seeded-random.ts';

const HOUR = 60 * 60_000;
const DAY = 24 * HOUR;
const START = Date.parse('2026-12-01T00:00:00Z');
const END = START + 3 * 365 * DAY;
const LIFETIME_CHANGES = [
  { from: Date.parse('2028-02-16T00:00:00Z'), days: 45 },
  { from: Date.parse('2027-02-10T00:00:00Z'), days: 64 },
  { from: 0, days: 90 },
];
const DRILL_AT = Date.parse('2027-06-01T12:00:00Z');
const BURST_AT = Date.parse('2027-03-15T09:00:00Z');
const BURST_NAMES = 2000;
const VALIDATION_FAILURE_RATE = 0.005;
const DAILY_ARRIVALS_SHARE = 0.0005;
const ACCOUNT = 'https://acme.example/acct/fleet';
const POLICY: RetryPolicy = DEFAULT_SETTINGS.retryPolicy;

type Scenario = 'ari' | 'no-ari' | 'drill';

interface Certificate {
  name: string;
  registeredDomain: string;
  /** The serving certificate; 0 before the first one. */
  notBefore: number;
  notAfter: number;
  window?: { start: number; end: number };
  /** When a domain waiting for its first certificate arrived. */
  arrivedAt?: number;
  failures: number;
  /** The drill moved its window: replaced by `movedEnd`, or late. */
  movedEnd?: number;
}

interface Results {
  certificates: number;
  rateLimitHits: number;
  expired: number;
  minMarginDays: number;
  peakOrders3h: number;
  maxWaitHours: number;
  drillMoved: number;
  drillLate: number;
  validationFailures: number;
}

/** Events by hour: a calendar queue, so millions of certificates cost no heap. */
class Calendar {
  private readonly hours = new Map<number, Array<[number, number]>>();
  add(at: number, certificate: number): void {
    const hour = Math.floor(at / HOUR);
    let slot = this.hours.get(hour);
    if (!slot) this.hours.set(hour, (slot = []));
    slot.push([at, certificate]);
  }
  take(hour: number): Array<[number, number]> {
    const slot = this.hours.get(hour) ?? [];
    this.hours.delete(hour);
    return slot.sort((a, b) => a[0] - b[0]);
  }
}

/** Whether the CA's spending already counted the exact set (a plain renewal's does, an ARI renewal's does not). */
function issuedAsRenewalSpent(spent: Array<{ bucket: { limit: string } }>): boolean {
  return spent.some(({ bucket }) => bucket.limit === 'certificatesPerExactSet');
}

function lifetimeAt(at: number): number {
  return LIFETIME_CHANGES.find((change) => at >= change.from)!.days * DAY;
}

/** Let's Encrypt's default suggestion: the last third of the lifetime, the first half of it. */
function suggestedWindow(notBefore: number, notAfter: number): { start: number; end: number } {
  const lifetime = notAfter - notBefore;
  const start = notAfter - lifetime / 3;
  return { start, end: start + lifetime / 6 };
}

function simulate(scenario: Scenario, size: number, seed: number): Results {
  const next = seededRandom(seed);
  const ari = scenario !== 'no-ari';
  const ours = new Map<string, BucketState>();
  const ca = new Map<string, BucketState>();
  const calendar = new Calendar();
  const ordersByHour = new Map<number, number>();
  const results: Results = {
    certificates: 0,
    rateLimitHits: 0,
    expired: 0,
    minMarginDays: Number.POSITIVE_INFINITY,
    peakOrders3h: 0,
    maxWaitHours: 0,
    drillMoved: 0,
    drillLate: 0,
    validationFailures: 0,
  };
  const fleet: Certificate[] = [];

  // A few customers with thousands of names on one registered domain, a long tail of one-name customers.
  const addCertificate = (certificate: Certificate) => fleet.push(certificate) - 1;
  let bigCustomers = 0;
  while (fleet.length < size) {
    const big = bigCustomers < 10 && next() < 0.001;
    const count = big ? Math.min(size - fleet.length, 1000 + Math.floor(next() * 9000)) : 1;
    const registeredDomain = `customer${fleet.length}.example`;
    if (big) bigCustomers++;
    for (let index = 0; index < count; index++) {
      // Issued over the last 60 days: the fleet is mid-life when the simulation starts.
      const notBefore = START - Math.floor(next() * 60 * DAY);
      const certificate = {
        name: `n${index}.${registeredDomain}`,
        registeredDomain,
        notBefore,
        notAfter: notBefore + 90 * DAY,
        failures: 0,
      };
      const id = addCertificate(certificate);
      schedule(id, certificate.notBefore);
    }
  }

  // The renewal time the service decides when a certificate is installed (or its window moves).
  function schedule(id: number, installedAt: number): void {
    const certificate = fleet[id]!;
    const dates = { notBefore: new Date(certificate.notBefore).toISOString(), notAfter: new Date(certificate.notAfter).toISOString() };
    if (!ari) {
      calendar.add(Math.max(Date.parse(fallbackRenewsAt(dates)), installedAt), id);
      return;
    }
    certificate.window = suggestedWindow(certificate.notBefore, certificate.notAfter);
    const window = { start: new Date(certificate.window.start).toISOString(), end: new Date(certificate.window.end).toISOString() };
    calendar.add(Date.parse(chooseRenewalTime(window, new Date(installedAt), next())), id);
  }

  // New domains: a steady trickle every day, and the burst.
  const arrive = (name: string, registeredDomain: string, at: number) => {
    const id = addCertificate({ name, registeredDomain, notBefore: 0, notAfter: 0, arrivedAt: at, failures: 0 });
    calendar.add(at, id);
  };
  const daily = Math.max(1, Math.round(size * DAILY_ARRIVALS_SHARE));
  for (let day = START; day < END; day += DAY) {
    for (let index = 0; index < daily; index++) {
      const at = day + Math.floor(next() * DAY);
      arrive(`www.new${fleet.length}.example`, `new${fleet.length}.example`, at);
    }
  }
  for (let index = 0; index < BURST_NAMES; index++)
    arrive(`s${index}.burst.example`, 'burst.example', BURST_AT + Math.floor(next() * HOUR));

  const attend = (id: number, now: number) => {
    const certificate = fleet[id]!;
    const isNew = certificate.notAfter === 0;
    const inWindow = ari && certificate.window !== undefined && now >= certificate.window.start && now <= certificate.window.end;
    const kind: OrderKind = isNew ? 'new' : inWindow ? 'ari-renewal' : 'renewal';
    const request = { accountUrl: ACCOUNT, names: [certificate.name], kind };
    // Our ledger first: an order that would go over waits, exactly until the bucket refills.
    const decision = decideOrder(LETS_ENCRYPT_LIMITS, ours, request, now);
    if (!decision.allowed) {
      calendar.add(decision.refillsAt, id);
      return;
    }
    for (const { bucket, state } of decision.spent) ours.set(bucketId(bucket), state);
    // The CA keeps its own buckets as Let's Encrypt does: every one checked at the order, the
    // account's spent then, the certificate ones only when a certificate is issued.
    // A refusal here is a rate-limit hit: an order our ledger let through and the CA did not.
    const caDecision = decideOrder(LETS_ENCRYPT_LIMITS, ca, request, now);
    if (!caDecision.allowed) {
      results.rateLimitHits++;
      calendar.add(caDecision.refillsAt, id);
      return;
    }
    const caSpend = (issued: boolean) => {
      for (const { bucket } of caDecision.spent) {
        if ((bucket.limit === 'newOrdersPerAccount') === issued) continue;
        const key = bucketId(bucket);
        ca.set(key, spendAnyway(LETS_ENCRYPT_LIMITS[bucket.limit], ca.get(key), now));
      }
    };
    caSpend(false);
    if (kind === 'new') ordersByHour.set(Math.floor(now / HOUR), (ordersByHour.get(Math.floor(now / HOUR)) ?? 0) + 1);
    if (next() < VALIDATION_FAILURE_RATE) {
      results.validationFailures++;
      for (const bucket of bucketsForOrder(request).check) {
        const key = bucketId(bucket);
        const limit = LETS_ENCRYPT_LIMITS[bucket.limit];
        ours.set(key, spendAnyway(limit, ours.get(key), now));
        ca.set(key, spendAnyway(limit, ca.get(key), now));
      }
      certificate.failures++;
      calendar.add(now + retryDelayMs({ attempt: { failures: certificate.failures } } as never, POLICY), id);
      return;
    }
    // Issued and installed. Every certificate counts for its exact names, an ARI renewal's too.
    caSpend(true);
    const exactSet = bucketId(exactSetBucket([certificate.name]));
    const exactSetLimit = LETS_ENCRYPT_LIMITS.certificatesPerExactSet;
    if (kind !== 'new' && !issuedAsRenewalSpent(caDecision.spent)) ca.set(exactSet, spendAnyway(exactSetLimit, ca.get(exactSet), now));
    if (kind === 'ari-renewal') ours.set(exactSet, spendAnyway(exactSetLimit, ours.get(exactSet), now));
    if (!isNew) {
      const margin = certificate.notAfter - now;
      if (margin < 0) results.expired++;
      results.minMarginDays = Math.min(results.minMarginDays, margin / DAY);
      if (certificate.movedEnd !== undefined) {
        if (now > certificate.movedEnd) results.drillLate++;
        certificate.movedEnd = undefined;
      }
    } else if (certificate.arrivedAt !== undefined) {
      results.maxWaitHours = Math.max(results.maxWaitHours, (now - certificate.arrivedAt) / HOUR);
    }
    certificate.failures = 0;
    certificate.notBefore = now;
    certificate.notAfter = now + lifetimeAt(now);
    schedule(id, now);
  };

  const lastHour = Math.floor(END / HOUR);
  for (let hour = Math.floor(START / HOUR); hour <= lastHour; hour++) {
    if (scenario === 'drill' && hour === Math.floor(DRILL_AT / HOUR)) drill();
    // What an attendance schedules within the same hour (a retry, a renewal due now) is taken in the same hour.
    for (let due = calendar.take(hour); due.length > 0; due = calendar.take(hour)) {
      for (const [at, id] of due) if (at <= END) attend(id, Math.max(at, START));
    }
  }

  function drill(): void {
    // A mass revocation: the CA moves 10% of the windows to now; each certificate hears of it at its next look.
    for (let id = 0; id < fleet.length; id++) {
      const certificate = fleet[id]!;
      if (certificate.notAfter === 0 || certificate.notAfter < DRILL_AT || next() >= 0.1) continue;
      const window = { start: DRILL_AT, end: DRILL_AT + DAY };
      certificate.window = window;
      certificate.movedEnd = window.end;
      results.drillMoved++;
      const heardAt = DRILL_AT + Math.floor(next() * 12 * HOUR);
      const iso = { start: new Date(window.start).toISOString(), end: new Date(window.end).toISOString() };
      calendar.add(Date.parse(chooseRenewalTime(iso, new Date(heardAt), next())), id);
    }
  }

  for (const certificate of fleet) {
    if (certificate.notAfter !== 0) results.certificates++;
    if (certificate.notAfter !== 0 && certificate.notAfter < END) results.expired++;
    if (certificate.notAfter === 0 && certificate.arrivedAt !== undefined) {
      results.maxWaitHours = Math.max(results.maxWaitHours, (END - certificate.arrivedAt) / HOUR);
    }
  }
  for (const [hour] of ordersByHour) {
    const sum = (ordersByHour.get(hour) ?? 0) + (ordersByHour.get(hour + 1) ?? 0) + (ordersByHour.get(hour + 2) ?? 0);
    results.peakOrders3h = Math.max(results.peakOrders3h, sum);
  }
  return results;
}

function main(): void {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, certificates: { type: 'string' }, seed: { type: 'string' } } });
  const size = Number(values.certificates ?? (values.quick ? 20_000 : 1_000_000));
  const seed = Number(values.seed ?? 2026);
  const lines: string[] = [];
  for (const scenario of ['ari', 'no-ari', 'drill'] as const) {
    const started = Date.now();
    const results = simulate(scenario, size, seed);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `# ${scenario}: ${results.validationFailures} failed validations retried; drill moved ${results.drillMoved} windows, ` +
        `${results.drillLate} replaced after their new window ended; simulated in ${seconds} s`,
    );
    lines.push(
      `fleet ${scenario}: certificates=${results.certificates} rate_limit_hits=${results.rateLimitHits} expired=${results.expired} ` +
        `min_margin_days=${results.minMarginDays.toFixed(1)} peak_orders_3h=${results.peakOrders3h} max_wait_hours=${results.maxWaitHours.toFixed(1)}`,
    );
  }
  for (const line of lines) console.log(line);
}

main();
