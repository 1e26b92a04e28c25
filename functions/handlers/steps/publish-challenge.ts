// PublishChallenge: put the key authorization where the edge answers HTTP-01.
import { execute, loadOrder } from '../lib/streams.ts';
import { stepHandler } from '../lib/step.ts';

export const handler = stepHandler(async (_event, { input, deps, correlationId }) => {
  const { token } = await loadOrder(deps, input);
  const ca = await deps.certificateAuthority();
  await deps.challenges.publish(token, await ca.keyAuthorization(token), new Date());
  const outcome = { type: 'ChallengePublished', data: { attempt: input.attempt, token } } as const;
  await execute(deps, input, { type: 'RecordStepOutcome', outcome }, correlationId);
  return { token };
});
