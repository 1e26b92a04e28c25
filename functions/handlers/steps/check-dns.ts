// CheckDns: the pre-flight before anything is asked of the CA. Does the name fit in
// a certificate, does the domain point at the app as the public resolver sees it?
import { checkPointing } from '../../domain/dns-check.ts';
import { commonNameProblem } from '../../domain/hostname.ts';
import { execute, loadDomain } from '../lib/domain-stream.ts';
import { fail, stepHandler } from '../lib/step.ts';

export const handler = stepHandler(async (_event, context) => {
  const { input, deps, correlationId } = context;
  const tooLong = commonNameProblem(input.hostname);
  if (tooLong) return fail(context, { reason: 'CN_TOO_LONG', message: tooLong, retryable: false });

  const state = await loadDomain(deps, input);
  const dnsTarget = state.domain?.dnsTarget ?? '';
  const [host, target] = await Promise.all([deps.dns.resolve(input.hostname), deps.dns.resolve(dnsTarget)]);
  const rules = { hostname: input.hostname, dnsTarget, legacyTargetSuffixes: deps.config.legacyTargetSuffixes };
  const verdict = checkPointing(rules, host, target);
  if (!verdict.verified) {
    const { reason, message, retryable, answers } = verdict;
    return fail(context, { reason, message, retryable, dnsAnswers: answers });
  }
  const outcome = { type: 'DnsVerified', data: { attempt: input.attempt, answers: verdict.answers } } as const;
  await execute(deps, input, { type: 'RecordStepOutcome', outcome }, correlationId);
  return { verified: true, answers: verdict.answers };
});
