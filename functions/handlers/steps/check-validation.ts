// CheckValidation: one look at the authorization; the state machine waits and loops.
import { classifyProblem } from '../../domain/acme-problem.ts';
import { execute, loadOrder } from '../lib/streams.ts';
import { selfCheck } from '../lib/self-check.ts';
import { fail, stepHandler } from '../lib/step.ts';

export const handler = stepHandler(async (_event, context) => {
  const { input, deps, correlationId } = context;
  const { authorizationUrl, challengeUrl, token } = await loadOrder(deps, input);
  const { status, problem } = await (await deps.certificateAuthority()).authorization(authorizationUrl);
  if (status === 'invalid') {
    // The CA's words say what failed; our own look at the URL says why, in terms a person can act on.
    const verdict = await selfCheck(deps, input.hostname, token);
    const classified = classifyProblem(problem ?? { type: 'unauthorized' }, {
      hostname: input.hostname,
      now: new Date(),
      selfCheck: verdict,
    });
    return fail(context, { ...classified, ...(problem && { problem }) });
  }
  if (status === 'valid') {
    const outcome = { type: 'ChallengeValidated', data: { attempt: input.attempt, challengeUrl } } as const;
    await execute(deps, input, { type: 'RecordStepOutcome', outcome }, correlationId);
  }
  return { status };
});
