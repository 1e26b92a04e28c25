// CreateOrder: one ACME order per try; a retried step returns the order it made.
import { execute, loadDomain } from '../lib/streams.ts';
import { stepHandler } from '../lib/step.ts';

export const handler = stepHandler(async (_event, { input, deps, correlationId }) => {
  const ca = await deps.certificateAuthority();
  const recorded = (await loadDomain(deps, input)).attempt?.order;
  if (recorded) return { ...recorded, authorizationStatus: (await ca.authorization(recorded.authorizationUrl)).status };
  const { authorizationStatus, ...order } = await ca.createOrder(input.hostname);
  const outcome = { type: 'OrderCreated', data: { attempt: input.attempt, ...order } } as const;
  await execute(deps, input, { type: 'RecordStepOutcome', outcome }, correlationId);
  return { ...order, authorizationStatus };
});
