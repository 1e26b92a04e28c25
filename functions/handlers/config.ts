// What a Lambda is configured with: the stack sets it in its environment. Settings
// not set keep production's defaults (DEFAULT_SETTINGS).
import { DEFAULT_SETTINGS, type Settings } from '../application/ports.ts';
import type { LimitName, Limits } from '../domain/rate-limits.ts';

export const LETS_ENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';
/** Google's public resolver: DNS is checked the way the CA and the world see it. */
export const DEFAULT_RESOLVER = '8.8.8.8';
/** Databases' secrets are `<prefix><app>/<database>`; the host policy and the grants are scoped to the prefix. */
export const DEFAULT_DATABASE_SECRET_PREFIX = 'acm-automation/databases/';

export interface Config {
  eventsTable: string;
  statusTable: string;
  challengesTable: string;
  acmeDirectoryUrl: string;
  /** The Secrets Manager secret holding the ACME account key, created on first use. */
  acmeAccountKeySecretId: string;
  /** acme-client's poll backoff while an order is processing. */
  acmePollMinMs: number;
  /** The CA profile to order; the CA's default when unset. */
  acmeProfile?: string;
  dnsResolver: string;
  dnsDeadlineMs: number;
  httpChallengePort: number;
  /** Set only for the functions that start or stop workflows. */
  stateMachineArn?: string;
  /** Where notifications go (EventBridge); the default bus when unset. */
  eventBusName?: string;
  /** Set only for the authorizer: the secret API tokens are signed with. */
  apiTokenSecretId?: string;
  /** Set only for the functions that publish DNS-01 answers: the Route 53 zone of databases' hostnames. */
  databaseZoneId?: string;
  /** Where databases' certificates are kept (Secrets Manager names start with it). */
  databaseSecretPrefix: string;
  settings: Omit<Settings, 'trustedRootsPem'>;
}

export function configFromEnvironment(env: NodeJS.ProcessEnv = process.env): Config {
  const seconds = (name: string, fallbackMs: number) => 1000 * number(env, name, fallbackMs / 1000);
  const defaults = DEFAULT_SETTINGS;
  return {
    eventsTable: required(env, 'EVENTS_TABLE'),
    statusTable: required(env, 'STATUS_TABLE'),
    challengesTable: required(env, 'CHALLENGES_TABLE'),
    acmeDirectoryUrl: env.ACME_DIRECTORY_URL ?? LETS_ENCRYPT_DIRECTORY,
    acmeAccountKeySecretId: required(env, 'ACME_ACCOUNT_KEY_SECRET'),
    acmePollMinMs: number(env, 'ACME_POLL_MIN_MS', 2000),
    acmeProfile: env.ACME_PROFILE || undefined,
    dnsResolver: env.DNS_RESOLVER ?? DEFAULT_RESOLVER,
    dnsDeadlineMs: number(env, 'DNS_DEADLINE_MS', 3000),
    httpChallengePort: number(env, 'HTTP_CHALLENGE_PORT', 80),
    stateMachineArn: env.STATE_MACHINE_ARN,
    eventBusName: env.EVENT_BUS_NAME,
    apiTokenSecretId: env.API_TOKEN_SECRET_ARN,
    databaseZoneId: env.DATABASE_HOSTED_ZONE_ID || undefined,
    databaseSecretPrefix: env.DATABASE_SECRET_PREFIX || DEFAULT_DATABASE_SECRET_PREFIX,
    settings: {
      retryPolicy: {
        failingWindowMs: seconds('FAILING_WINDOW_SECONDS', defaults.retryPolicy.failingWindowMs),
        firstRetryDelayMs: seconds('RETRY_FIRST_DELAY_SECONDS', defaults.retryPolicy.firstRetryDelayMs),
        maxRetryDelayMs: seconds('RETRY_MAX_DELAY_SECONDS', defaults.retryPolicy.maxRetryDelayMs),
        notifyAfterMs: seconds('NOTIFY_AFTER_FAILING_SECONDS', defaults.retryPolicy.notifyAfterMs),
      },
      dnsTargetSuffix: env.DNS_TARGET_SUFFIX ?? defaults.dnsTargetSuffix,
      legacyTargetSuffixes: env.LEGACY_TARGET_SUFFIXES === undefined ? defaults.legacyTargetSuffixes : list(env.LEGACY_TARGET_SUFFIXES),
      renewalJitterSeconds: number(env, 'RENEWAL_JITTER_SECONDS', defaults.renewalJitterSeconds),
      caaIssuerDomainNames: env.CAA_ISSUER_DOMAIN_NAMES === undefined ? defaults.caaIssuerDomainNames : list(env.CAA_ISSUER_DOMAIN_NAMES),
      rateLimits: rateLimits(env.RATE_LIMITS, defaults.rateLimits),
      databaseHostSuffix: env.DATABASE_HOST_SUFFIX ?? defaults.databaseHostSuffix,
      databaseRootCertPath: env.DATABASE_ROOT_CERT_PATH ?? defaults.databaseRootCertPath,
      validationLooks: {
        firstMs: number(env, 'VALIDATION_FIRST_LOOK_MS', defaults.validationLooks.firstMs),
        budgetMs: number(env, 'VALIDATION_LOOKS_MS', defaults.validationLooks.budgetMs),
      },
    },
  };
}

/** `RATE_LIMITS`: JSON like {"newOrdersPerAccount": {"capacity": 300, "periodSeconds": 10800}}, over the defaults. */
function rateLimits(raw: string | undefined, defaults: Limits): Limits {
  if (!raw) return defaults;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error('RATE_LIMITS must be JSON: {"<limit>": {"capacity": <n>, "periodSeconds": <s>}, ...}');
  }
  const limits = { ...defaults };
  for (const [name, value] of Object.entries(parsed as Record<string, { capacity?: unknown; periodSeconds?: unknown }>)) {
    if (!(name in defaults)) throw new Error(`RATE_LIMITS.${name}: not a limit; the limits are ${Object.keys(defaults).join(', ')}`);
    const { capacity, periodSeconds } = value ?? {};
    if (!Number.isInteger(capacity) || (capacity as number) < 1 || !(Number(periodSeconds) > 0)) {
      throw new Error(`RATE_LIMITS.${name}: needs a whole capacity of at least 1 and periodSeconds above 0`);
    }
    limits[name as LimitName] = { capacity: capacity as number, periodMs: Number(periodSeconds) * 1000 };
  }
  return limits;
}

function list(raw: string): string[] {
  return raw
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter(Boolean);
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set: the stack must set it`);
  return value;
}

function number(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return value;
}
