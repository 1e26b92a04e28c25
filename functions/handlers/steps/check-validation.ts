// CheckValidation: one look at the authorization; the state machine waits and loops.
import { execute, loadOrder } from '../lib/domain-stream.ts';
import { fail, stepHandler } from '../lib/step.ts';

export const handler = stepHandler(async (_event, context) => {
  const { input, deps, correlationId } = context;
  const { authorizationUrl, challengeUrl } = await loadOrder(deps, input);
  const { status, problem } = await (await deps.certificateAuthority()).authorization(authorizationUrl);
  if (status === 'invalid') {
    const message = `The CA could not validate ${input.hostname}: ${problem?.detail ?? 'no detail given'}`;
    return fail(context, { message, retryable: true, problem });
  }
  if (status === 'valid') {
    const outcome = { type: 'ChallengeValidated', data: { attempt: input.attempt, challengeUrl } } as const;
    await execute(deps, input, { type: 'RecordStepOutcome', outcome }, correlationId);
  }
  return { status };
});
