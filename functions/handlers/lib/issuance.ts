// Starting issuance, shared by the API, platform events and (later) refresh and renewal.
import type { IssuanceTrigger } from '../../domain/events.ts';
import type { Dependencies } from './dependencies.ts';
import { execute, type DomainRef } from './streams.ts';

/** Adds the domain; only a domain that is new starts a workflow, so a redelivered event starts none. */
export async function addDomain(deps: Dependencies, ref: DomainRef & { dnsTarget: string }, correlationId: string): Promise<void> {
  const { appended } = await execute(deps, ref, { type: 'AddDomain', ...ref }, correlationId);
  if (appended.length > 0) await requestIssuance(deps, ref, 'domain-added', correlationId);
}

/** Opens an attempt (or joins the open one) and starts its workflow; the execution name makes the start idempotent. */
export async function requestIssuance(
  deps: Dependencies,
  ref: DomainRef,
  trigger: IssuanceTrigger,
  correlationId: string,
): Promise<string> {
  const { state } = await execute(deps, ref, { type: 'RequestIssuance', trigger }, correlationId);
  const attempt = state.attempt?.number ?? 1;
  const { executionName } = await deps.workflows().startIssuance({ app: ref.app, hostname: ref.hostname, attempt });
  return executionName;
}

export function dnsTargetFor(app: string, deps: Dependencies): string {
  return `${app}.${deps.config.dnsTargetSuffix}`;
}
