// An app's TLS policy: read it, change it (an event on the app's stream; the projector tells
// the edge), and what the edge needs for one hostname (whose app, which policy, automation on?).
import { appTlsPolicy, foldClaim, type AppState } from '../domain/app-decider.ts';
import { InvalidInputError } from '../domain/errors.ts';
import { streamIds, type AppEvent, type ClaimEvent, type RecordedEvent } from '../domain/events.ts';
import {
  DEFAULT_TLS_POLICY,
  isTlsPolicyName,
  TLS_POLICY_RULE,
  tlsPolicyChangeId,
  tlsPolicySetting,
  type TlsPolicyName,
  type TlsPolicySetting,
} from '../domain/tls-policy.ts';
import { changeApp, requireApp, type AppPorts } from './apps.ts';
import type { Ports } from './ports.ts';
import { loadApp } from './streams.ts';

export type TlsPolicyAnswer = { app: string } & TlsPolicySetting;

export async function getTlsPolicy(ports: Pick<Ports, 'events'>, app: string): Promise<TlsPolicyAnswer> {
  return { app, ...appTlsPolicy(await requireApp(ports, app)) };
}

/**
 * Records the policy (nothing when it is the app's already). The edge is told from the log's
 * stream (tellEdge), so a crash after the append cannot lose the news.
 */
export async function setTlsPolicy(ports: AppPorts, app: string, policy: unknown, correlationId: string): Promise<TlsPolicyAnswer> {
  if (!isTlsPolicyName(policy)) throw new InvalidInputError('policy', TLS_POLICY_RULE);
  await requireApp(ports, app);
  const state = await changeApp(ports, app, { type: 'SetTlsPolicy', policy }, correlationId);
  return { app, ...appTlsPolicy(state) };
}

/**
 * The projector's part: each TlsPolicyChanged the stream delivers is put on EventBridge for the
 * edge, at least once (the stream retries a failed batch), under one id per recorded change.
 */
export async function tellEdge(
  ports: Pick<Ports, 'notifications'>,
  app: string,
  delivered: RecordedEvent<AppEvent>[],
  state: AppState,
): Promise<void> {
  for (const event of delivered) {
    if (event.type !== 'TlsPolicyChanged') continue;
    await ports.notifications.tlsPolicyChanged({
      notificationId: tlsPolicyChangeId(app, event.version),
      app,
      version: event.version,
      hostnames: state.domains,
      ...tlsPolicySetting(event.data.policy, event.at),
    });
  }
}

/** What the edge applies to a hostname: a name no app holds gets the default policy and the platform's challenge answers. */
export interface EdgeSettings {
  app?: string;
  tlsPolicy: TlsPolicyName;
  /** Automated certificates on: the platform answers `/.well-known/acme-challenge/*`; off: the app does. */
  acmEnabled: boolean;
}

export async function edgeSettings(ports: Pick<Ports, 'events'>, hostname: string): Promise<EdgeSettings> {
  const { owner } = foldClaim((await ports.events.read(streamIds.hostname(hostname))) as ClaimEvent[]);
  if (!owner) return { tlsPolicy: DEFAULT_TLS_POLICY, acmEnabled: true };
  const state = await loadApp(ports, owner);
  return { app: owner, tlsPolicy: state.tlsPolicy, acmEnabled: state.acmEnabled };
}
