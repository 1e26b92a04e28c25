// Everything a handler is configured with comes from its environment: the stack
// sets it in AWS, the local cloud sets it on this machine.
import type { RetryPolicy } from '../../domain/certificate-decider.ts';
import { DEFAULT_RESOLVER } from '../../adapters/dns/dns-resolver.ts';
import { NOTIFY_AFTER_FAILING_MS } from '../../domain/renewal.ts';

export const LETS_ENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';

export interface Config {
  eventsTable: string;
  statusTable: string;
  challengesTable: string;
  acmeDirectoryUrl: string;
  /** Secrets Manager secret id (AWS) or a file path (local) holding the ACME account key. */
  acmeAccountKey: { secretId: string } | { file: string };
  acmeDirectoryCaFile?: string;
  acmePollMinMs: number;
  dnsResolver: string;
  dnsDeadlineMs: number;
  httpChallengePort: number;
  /** Set in the local cloud: certificates go to this folder instead of ACM. */
  localCertificateDir?: string;
  stateMachineArn?: string;
  dnsTargetSuffix: string;
  retryPolicy: RetryPolicy;
  /** DNS targets apps used to point at before (CNAME_TARGET_INCORRECT). */
  legacyTargetSuffixes: string[];
  /** Renewals found by one sweep start spread over this many seconds. */
  renewalJitterSeconds: number;
  /** The CA's identities in CAA `issue` records. */
  caaIssuerDomainNames: string[];
  /** Where notifications go (EventBridge); the default bus when unset. */
  eventBusName?: string;
  /** What API tokens are signed with: a Secrets Manager secret (AWS) or the value (local cloud). */
  apiTokenSecret: { secretId: string } | { value: string };
  /** Roots an uploaded chain may be trusted to besides the public ones (the local Pebble's). */
  extraTrustedRootsFile?: string;
}

export function configFromEnvironment(env: NodeJS.ProcessEnv = process.env): Config {
  const seconds = (name: string, fallback: number) => 1000 * number(env, name, fallback);
  return {
    eventsTable: required(env, 'EVENTS_TABLE'),
    statusTable: required(env, 'STATUS_TABLE'),
    challengesTable: required(env, 'CHALLENGES_TABLE'),
    acmeDirectoryUrl: env.ACME_DIRECTORY_URL ?? LETS_ENCRYPT_DIRECTORY,
    acmeAccountKey: env.ACME_ACCOUNT_KEY_FILE
      ? { file: env.ACME_ACCOUNT_KEY_FILE }
      : { secretId: required(env, 'ACME_ACCOUNT_KEY_SECRET') },
    acmeDirectoryCaFile: env.ACME_DIRECTORY_CA_FILE,
    acmePollMinMs: number(env, 'ACME_POLL_MIN_MS', 2000),
    dnsResolver: env.DNS_RESOLVER ?? DEFAULT_RESOLVER,
    dnsDeadlineMs: number(env, 'DNS_DEADLINE_MS', 3000),
    httpChallengePort: number(env, 'HTTP_CHALLENGE_PORT', 80),
    localCertificateDir: env.LOCAL_CERTIFICATE_DIR,
    stateMachineArn: env.STATE_MACHINE_ARN,
    dnsTargetSuffix: env.DNS_TARGET_SUFFIX ?? 'edge.example.net',
    retryPolicy: {
      failingWindowMs: seconds('FAILING_WINDOW_SECONDS', 3600),
      firstRetryDelayMs: seconds('RETRY_FIRST_DELAY_SECONDS', 60),
      maxRetryDelayMs: seconds('RETRY_MAX_DELAY_SECONDS', 900),
      notifyAfterMs: seconds('NOTIFY_AFTER_FAILING_SECONDS', NOTIFY_AFTER_FAILING_MS / 1000),
    },
    legacyTargetSuffixes: list(env.LEGACY_TARGET_SUFFIXES),
    renewalJitterSeconds: number(env, 'RENEWAL_JITTER_SECONDS', 3600),
    caaIssuerDomainNames: list(env.CAA_ISSUER_DOMAIN_NAMES ?? 'letsencrypt.org'),
    eventBusName: env.EVENT_BUS_NAME,
    apiTokenSecret: env.API_TOKEN_SECRET ? { value: env.API_TOKEN_SECRET } : { secretId: env.API_TOKEN_SECRET_ARN ?? '' },
    extraTrustedRootsFile: env.EXTRA_TRUSTED_ROOTS_FILE,
  };
}

function list(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter(Boolean);
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set: the stack (or the local cloud) must set it`);
  return value;
}

function number(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return value;
}
