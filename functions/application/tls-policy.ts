// An app's TLS policy: read it, change it (an event on the app's stream, then the edge is
// told), and what the edge needs for one hostname (whose app, which policy, automation on?).
import { appTlsPolicy, foldClaim } from '../domain/app-decider.ts';
import { InvalidInputError } from '../domain/errors.ts';
import { streamIds, type ClaimEvent } from '../domain/events.ts';
import {
  DEFAULT_TLS_POLICY,
  isTlsPolicyName,
  TLS_POLICY_RULE,
  tlsPolicyChangeId,
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
 * Records the policy (nothing when it is the app's already), then tells the edge. From the state,
 * not from what this call appended: a request retried after a failed publication publishes it.
 */
export async function setTlsPolicy(
  ports: AppPorts & Pick<Ports, 'notifications'>,
  app: string,
  policy: unknown,
  correlationId: string,
): Promise<TlsPolicyAnswer> {
  if (!isTlsPolicyName(policy)) throw new InvalidInputError('policy', TLS_POLICY_RULE);
  await requireApp(ports, app);
  const state = await changeApp(ports, app, { type: 'SetTlsPolicy', policy }, correlationId);
  const setting = appTlsPolicy(state);
  if (state.tlsPolicyChanged) {
    const { version } = state.tlsPolicyChanged;
    await ports.notifications.tlsPolicyChanged({
      notificationId: tlsPolicyChangeId(app, version),
      app,
      version,
      hostnames: state.domains,
      ...setting,
    });
  }
  return { app, ...setting };
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
