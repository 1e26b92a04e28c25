// AskCaToValidate: tell the CA the challenge is ready. A retried step finds the
// challenge already processing or valid and asks nothing (the CA would refuse).
import { loadOrder } from '../lib/domain-stream.ts';
import { stepHandler } from '../lib/step.ts';

export const handler = stepHandler(async (_event, { input, deps }) => {
  const { authorizationUrl, challengeUrl } = await loadOrder(deps, input);
  const ca = await deps.certificateAuthority();
  const { challengeStatus } = await ca.authorization(authorizationUrl);
  if (challengeStatus === 'pending') await ca.askToValidate(challengeUrl);
  return { challengeStatus };
});
