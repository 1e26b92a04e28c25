// One local cloud per test file (each file runs in its own process), in a fresh folder.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { DomainStatus } from '../../functions/domain/status.ts';
import { startLocalCloud, type LocalCloud, type LocalCloudOptions } from '../../infra/local/cloud.ts';

export function useLocalCloud(options: Omit<LocalCloudOptions, 'dataDir'> = {}): () => LocalCloud {
  let cloud: LocalCloud | undefined;
  let dataDir = '';
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'local-cloud-'));
    cloud = await startLocalCloud({ ...options, dataDir });
  });
  after(async () => {
    await cloud?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  return () => {
    if (!cloud) throw new Error('the local cloud did not start');
    return cloud;
  };
}

/** Calls the local API, with the operator's token unless told otherwise (`token: null` sends none). */
export async function api(
  cloud: LocalCloud,
  method: string,
  path: string,
  body?: unknown,
  token: string | null = cloud.tokens.operator,
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${cloud.apiUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token !== null && { authorization: `Bearer ${token}` }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const isJson = response.headers.get('content-type')?.includes('application/json');
  return { status: response.status, body: isJson && text ? JSON.parse(text) : text || undefined };
}

/** Polls `probe` until it gives a value; `what` names what was awaited when it never does. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Polls the status projection until the domain reaches one of `statuses`. */
export function waitForStatus(
  cloud: LocalCloud,
  app: string,
  hostname: string,
  statuses: string[],
  timeoutMs = 30_000,
): Promise<DomainStatus> {
  return waitForDomain(cloud, app, hostname, (status) => statuses.includes(status.status), `reach ${statuses.join(' or ')}`, timeoutMs);
}

/** Polls the status projection until the domain's row satisfies `accept` (`what` says what was awaited). */
export async function waitForDomain(
  cloud: LocalCloud,
  app: string,
  hostname: string,
  accept: (status: DomainStatus) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<DomainStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: DomainStatus | undefined;
  while (Date.now() < deadline) {
    const { body } = await api(cloud, 'GET', `/apps/${app}/acm`);
    last = (body.domains as DomainStatus[]).find((domain) => domain.hostname === hostname);
    if (last && accept(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${hostname} did not ${what} in ${timeoutMs} ms; last status: ${JSON.stringify(last)}`);
}

export interface TimelineEvent {
  version: number;
  type: string;
  at: string;
  data: Record<string, any>;
}

export async function timeline(cloud: LocalCloud, app: string, hostname: string): Promise<TimelineEvent[]> {
  const { status, body } = await api(cloud, 'GET', `/apps/${app}/domains/${hostname}/events`);
  if (status !== 200) throw new Error(`timeline of ${hostname} answered ${status}: ${JSON.stringify(body)}`);
  return body as TimelineEvent[];
}

/** Adds a domain to an app over the API, asserting it was accepted. */
export async function addDomain(cloud: LocalCloud, app: string, hostname: string): Promise<void> {
  const { status, body } = await api(cloud, 'POST', `/apps/${app}/domains`, { hostname });
  if (status !== 201) throw new Error(`adding ${hostname} answered ${status}: ${JSON.stringify(body)}`);
}

/** A domain's events, in order, from added to installed, when nothing goes wrong. */
export const HAPPY_PATH_EVENTS = [
  'DomainAdded',
  'IssuanceRequested',
  'DnsVerified',
  'OrderBudgetTaken',
  'OrderCreated',
  'ChallengePublished',
  'ChallengeValidated',
  'CertificateIssued',
  'CertificateInstalling',
  'CertificateInstalled',
];
