// The sweep's Lambda (hourly in AWS, a timer locally): renewals due, failing domains told once,
// lost executions started again. The scheduled event has no fields; the local cloud's start-up
// passes `{reconcileNow: true}`, since nothing can be running then.
import middy from '@middy/core';
import { sweep, type SweepPorts } from '../../application/sweep.ts';
import { observed } from '../observability.ts';
import { awsHandler, ca, certificates, events, log, measure, notifications, settings, statuses, workflows } from '../wire.ts';

export const createHandler = (ports: SweepPorts) =>
  observed(
    middy(async (event: { reconcileNow?: unknown } | undefined) =>
      sweep(ports, event?.reconcileNow === true ? { reconcileGraceMs: 0 } : {}),
    ),
    () => ({ correlationId: `sweep:${new Date().toISOString()}` }),
  );
export const handler = awsHandler({ events, settings, statuses, workflows, notifications, ca, certificates, log, measure }, createHandler);
