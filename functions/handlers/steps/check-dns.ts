// CheckDns: does the domain point at the app, as the public resolver sees it?
import { checkPointing } from '../../domain/dns-check.ts';
import { execute, loadDomain } from '../lib/domain-stream.ts';
import { fail, stepHandler } from '../lib/step.ts';

export const handler = stepHandler(async (_event, context) => {
  const { input, deps, correlationId } = context;
  const state = await loadDomain(deps, input);
  const dnsTarget = state.domain?.dnsTarget ?? '';
  const [host, target] = await Promise.all([deps.dns.resolve(input.hostname), deps.dns.resolve(dnsTarget)]);
  const verdict = checkPointing(input.hostname, dnsTarget, host, target);
  if (!verdict.verified) {
    const { reason, message, retryable, answers } = verdict;
    return fail(context, { reason, message, retryable, dnsAnswers: answers });
  }
  await execute(deps, input, { type: 'RecordStepOutcome', outcome: { type: 'DnsVerified', data: { attempt: input.attempt, answers: verdict.answers } } }, correlationId);
  return { verified: true, answers: verdict.answers };
});
