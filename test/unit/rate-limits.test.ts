import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { registeredDomainOf } from '../../functions/domain/registered-domain.ts';
import {
  bucketId,
  bucketNamedBy,
  bucketsForOrder,
  decideOrder,
  LETS_ENCRYPT_LIMITS,
  spend,
  stateRefillingAt,
  tokensLeft,
  type BucketState,
  type Limit,
} from '../../functions/domain/rate-limits.ts';

const T0 = Date.parse('2026-12-01T00:00:00.000Z');
const HOUR = 60 * 60_000;
const DAY = 24 * HOUR;
const ACCOUNT = 'https://acme.example/acct/1';

/** Spends `count` tokens one after another at `now`, returning the state after. */
function spendMany(limit: Limit, count: number, now: number, from?: BucketState): BucketState | undefined {
  let state = from;
  for (let index = 0; index < count; index++) {
    const outcome = spend(limit, state, now);
    assert.ok(outcome.allowed, `token ${index + 1} of ${count}`);
    state = outcome.state;
  }
  return state;
}

describe('a bucket refills one token every period / capacity (GCRA)', () => {
  test('5 certificates per exact set per 7 days: the 6th waits exactly 33.6 hours, not a millisecond less', () => {
    const limit = LETS_ENCRYPT_LIMITS.certificatesPerExactSet;
    const state = spendMany(limit, 5, T0);
    assert.equal(tokensLeft(limit, state, T0), 0);
    const refused = spend(limit, state, T0);
    assert.deepEqual(refused, { allowed: false, refillsAt: T0 + (7 * DAY) / 5 });
    assert.equal(spend(limit, state, T0 + (7 * DAY) / 5 - 1).allowed, false, 'one millisecond early');
    assert.equal(spend(limit, state, T0 + (7 * DAY) / 5).allowed, true, 'exactly at the refill');
    assert.equal(tokensLeft(limit, state, T0 + 7 * DAY), 5, 'full again after the whole period');
  });

  test('300 new orders per 3 hours: one back every 36 seconds', () => {
    const limit = LETS_ENCRYPT_LIMITS.newOrdersPerAccount;
    const state = spendMany(limit, 300, T0);
    const refused = spend(limit, state, T0);
    assert.deepEqual(refused, { allowed: false, refillsAt: T0 + 36_000 });
    assert.equal(tokensLeft(limit, state, T0 + 36_000 * 10), 10);
  });

  test('an unused bucket is full, and a bucket cannot fill past its capacity', () => {
    const limit = LETS_ENCRYPT_LIMITS.failedAuthorizationsPerIdentifier;
    assert.equal(tokensLeft(limit, undefined, T0), 5);
    const state = spendMany(limit, 1, T0);
    assert.equal(tokensLeft(limit, state, T0 + 10 * HOUR), 5);
    // After a long rest the full burst is there again, and no more.
    const rested = spendMany(limit, 5, T0 + 10 * HOUR, state);
    assert.equal(spend(limit, rested, T0 + 10 * HOUR).allowed, false);
  });
});

describe("which buckets an order draws on: Let's Encrypt's exemptions", () => {
  test('a new order spends the account, each registered domain and the exact set, and checks failed validations', () => {
    const { spend: spent, check } = bucketsForOrder({ accountUrl: ACCOUNT, names: ['www.shop.example.co.uk'], kind: 'new' });
    assert.deepEqual(spent.map(bucketId), [
      `newOrdersPerAccount#${ACCOUNT}`,
      'certificatesPerRegisteredDomain#example.co.uk',
      'certificatesPerExactSet#www.shop.example.co.uk',
    ]);
    assert.deepEqual(check.map(bucketId), [`failedAuthorizationsPerIdentifier#${ACCOUNT} www.shop.example.co.uk`]);
  });

  test("an app's new order also draws on its fair share of the account's; the CA knows nothing of apps", () => {
    const withApp = bucketsForOrder({ accountUrl: ACCOUNT, names: ['www.example.com'], kind: 'new', app: 'shop' });
    assert.deepEqual(withApp.spend.map(bucketId).slice(0, 2), ['newOrdersPerApp#shop', `newOrdersPerAccount#${ACCOUNT}`]);
    const renewal = bucketsForOrder({ accountUrl: ACCOUNT, names: ['www.example.com'], kind: 'renewal', app: 'shop' });
    assert.deepEqual(
      renewal.spend.map((bucket) => bucket.limit),
      ['certificatesPerExactSet'],
    );
  });

  test('a renewal of the same names spends only the exact set; an ARI renewal nothing at all', () => {
    const renewal = bucketsForOrder({ accountUrl: ACCOUNT, names: ['www.example.com'], kind: 'renewal' });
    assert.deepEqual(
      renewal.spend.map((bucket) => bucket.limit),
      ['certificatesPerExactSet'],
    );
    assert.deepEqual(bucketsForOrder({ accountUrl: ACCOUNT, names: ['www.example.com'], kind: 'ari-renewal' }), { spend: [], check: [] });
  });

  test('registered domains follow the Public Suffix List, private suffixes included', () => {
    assert.deepEqual(['a.b.example.com', 'x.example.co.uk', 'me.github.io', 'www.demo.test'].map(registeredDomainOf), [
      'example.com',
      'example.co.uk',
      'me.github.io',
      'demo.test',
    ]);
  });
});

describe('deciding an order', () => {
  const request = { accountUrl: ACCOUNT, names: ['www.example.com'], kind: 'new' } as const;

  test('allowed: the new bucket states to write', () => {
    const decision = decideOrder(LETS_ENCRYPT_LIMITS, new Map(), request, T0);
    assert.ok(decision.allowed);
    assert.deepEqual(
      decision.spent.map(({ bucket, state }) => [bucket.limit, state.tat - T0]),
      [
        ['newOrdersPerAccount', 36_000],
        ['certificatesPerRegisteredDomain', (7 * DAY) / 50],
        ['certificatesPerExactSet', (7 * DAY) / 5],
      ],
    );
  });

  test('refused: the bucket that refills last, and exactly when', () => {
    const exactSet = spendMany(LETS_ENCRYPT_LIMITS.certificatesPerExactSet, 5, T0)!;
    const account = spendMany(LETS_ENCRYPT_LIMITS.newOrdersPerAccount, 300, T0)!;
    const states = new Map([
      [`certificatesPerExactSet#www.example.com`, exactSet],
      [`newOrdersPerAccount#${ACCOUNT}`, account],
    ]);
    const decision = decideOrder(LETS_ENCRYPT_LIMITS, states, request, T0);
    assert.deepEqual(decision, {
      allowed: false,
      bucket: { limit: 'certificatesPerExactSet', key: 'www.example.com' },
      refillsAt: T0 + (7 * DAY) / 5,
    });
  });

  test('five failed validations for a name hold its next order for 12 minutes', () => {
    const failures = spendMany(LETS_ENCRYPT_LIMITS.failedAuthorizationsPerIdentifier, 5, T0)!;
    const states = new Map([[`failedAuthorizationsPerIdentifier#${ACCOUNT} www.example.com`, failures]]);
    const decision = decideOrder(LETS_ENCRYPT_LIMITS, states, request, T0);
    assert.deepEqual(decision.allowed ? 'allowed' : [decision.bucket.limit, decision.refillsAt - T0], [
      'failedAuthorizationsPerIdentifier',
      12 * 60_000,
    ]);
  });
});

describe("a CA's rate-limit answer names the bucket it came from", () => {
  const request = { accountUrl: ACCOUNT, names: ['www.example.com'], kind: 'new' } as const;
  test("Let's Encrypt's wording for each limit", () => {
    const named = (detail: string) => bucketNamedBy(detail, request)?.limit;
    assert.equal(named('too many new orders (300) from this account in the last 3h0m0s'), 'newOrdersPerAccount');
    assert.equal(
      named('too many certificates (5) already issued for this exact set of identifiers in the last 168h0m0s'),
      'certificatesPerExactSet',
    );
    assert.equal(
      named('too many certificates (50) already issued for "example.com" in the last 168h0m0s'),
      'certificatesPerRegisteredDomain',
    );
    assert.equal(named('too many failed authorizations (5) for "www.example.com" in the last 1h0m0s'), 'failedAuthorizationsPerIdentifier');
    assert.equal(named('something else entirely'), undefined);
  });

  test('the corrected bucket refills exactly at the Retry-After instant', () => {
    const limit = LETS_ENCRYPT_LIMITS.certificatesPerExactSet;
    const retryAfter = T0 + 5 * HOUR;
    const corrected = stateRefillingAt(limit, retryAfter);
    assert.equal(spend(limit, corrected, retryAfter - 1).allowed, false);
    assert.equal(spend(limit, corrected, retryAfter).allowed, true);
  });
});
