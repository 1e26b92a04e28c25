// SelfCheckChallenge: fetch our own challenge URL through the domain before the CA
// does: a failed CA validation costs rate-limit budget, this costs nothing.
import { loadOrder } from '../lib/streams.ts';
import { selfCheck } from '../lib/self-check.ts';
import { fail, stepHandler } from '../lib/step.ts';

export const handler = stepHandler(async (_event, context) => {
  const { input, deps } = context;
  const { token } = await loadOrder(deps, input);
  const verdict = await selfCheck(deps, input.hostname, token);
  if (!verdict.passed) return fail(context, { reason: verdict.reason, message: verdict.message, retryable: true });
  return { passed: true };
});
