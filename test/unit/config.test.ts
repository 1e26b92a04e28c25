import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LETS_ENCRYPT_LIMITS } from '../../functions/domain/rate-limits.ts';
import { configFromEnvironment } from '../../functions/handlers/config.ts';

const base = { EVENTS_TABLE: 'e', STATUS_TABLE: 's', CHALLENGES_TABLE: 'c', ACME_ACCOUNT_KEY_SECRET: 'k' };

test("the Lambdas' rate limits are Let's Encrypt's unless RATE_LIMITS overrides some, checked with the field named", () => {
  assert.deepEqual(configFromEnvironment(base).settings.rateLimits, LETS_ENCRYPT_LIMITS);
  const overridden = configFromEnvironment({ ...base, RATE_LIMITS: '{"newOrdersPerAccount": {"capacity": 100, "periodSeconds": 3600}}' });
  assert.deepEqual(overridden.settings.rateLimits.newOrdersPerAccount, { capacity: 100, periodMs: 3_600_000 });
  assert.deepEqual(overridden.settings.rateLimits.certificatesPerExactSet, LETS_ENCRYPT_LIMITS.certificatesPerExactSet);
  assert.throws(
    () => configFromEnvironment({ ...base, RATE_LIMITS: '{"ordersPerMoon": {"capacity": 1, "periodSeconds": 1}}' }),
    /RATE_LIMITS\.ordersPerMoon: not a limit/,
  );
  assert.throws(
    () => configFromEnvironment({ ...base, RATE_LIMITS: '{"newOrdersPerAccount": {"capacity": 0, "periodSeconds": 1}}' }),
    /RATE_LIMITS\.newOrdersPerAccount: needs a whole capacity/,
  );
  assert.throws(() => configFromEnvironment({ ...base, RATE_LIMITS: 'not json' }), /RATE_LIMITS must be JSON/);
});
