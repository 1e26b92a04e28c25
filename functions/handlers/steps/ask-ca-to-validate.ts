// AskCaToValidate: tell the CA the challenge is ready. Only a pending challenge may be
// asked; a retried step finds it processing or valid, or races the CA's own update.
import { AcmeProblemError } from '../../adapters/acme/acme-problem-error.ts';
import { loadOrder } from '../lib/streams.ts';
import { stepHandler } from '../lib/step.ts';

export const handler = stepHandler(async (_event, { input, deps }) => {
  const { authorizationUrl, challengeUrl } = await loadOrder(deps, input);
  const ca = await deps.certificateAuthority();
  const challengeStatus = async () => (await ca.authorization(authorizationUrl)).challengeStatus;
  if ((await challengeStatus()) !== 'pending') return { asked: false };
  try {
    await ca.askToValidate(challengeUrl);
  } catch (error) {
    // The CA refuses to be asked twice: if the challenge moved on meanwhile, the earlier ask counted.
    if (!(error instanceof AcmeProblemError) || (await challengeStatus()) === 'pending') throw error;
  }
  return { asked: true };
});
