// AskCaToValidate: tell the CA the challenge is ready. Asking twice is harmless.
import { loadOrder } from '../lib/domain-stream.ts';
import { stepHandler } from '../lib/step.ts';

export const handler = stepHandler(async (_event, { input, deps }) => {
  const { challengeUrl } = await loadOrder(deps, input);
  await (await deps.certificateAuthority()).askToValidate(challengeUrl);
  return { asked: true };
});
