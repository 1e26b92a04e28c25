// CheckValidation: one look at the authorization; the state machine waits and loops.
import { classifyProblem } from '../../domain/acme-problem.ts';
import { selfCheck } from '../lib/self-check.ts';
import { fail, stepHandler } from '../lib/step.ts';
import { execute, loadDomain, requireOrder } from '../lib/streams.ts';

/** The CA validates in seconds; a challenge still pending after this is given up and tried anew. */
const VALIDATION_DEADLINE_MS = 10 * 60_000;

export const handler = stepHandler(async (_event, context) => {
  const { input, deps, correlationId } = context;
  // One read of the stream per poll: this step runs every couple of seconds while the CA works.
  const state = await loadDomain(deps, input);
  const { authorizationUrl, challengeUrl, token } = requireOrder(state, input);
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
  const publishedAt = Date.parse(state.attempt?.challengePublishedAt ?? '');
  if (status !== 'valid' && Date.now() - publishedAt > VALIDATION_DEADLINE_MS) {
    const minutes = VALIDATION_DEADLINE_MS / 60_000;
    return fail(context, {
      message: `The CA did not finish validating ${input.hostname} within ${minutes} minutes (still ${status}); trying again.`,
      retryable: true,
    });
  }
  if (status === 'valid') {
    const outcome = { type: 'ChallengeValidated', data: { attempt: input.attempt, challengeUrl } } as const;
    await execute(deps, input, { type: 'RecordStepOutcome', outcome }, correlationId);
  }
  return { status };
});
