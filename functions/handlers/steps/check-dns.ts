// CheckDns: the pre-flight before anything is asked of the CA. Does the name fit in
// a certificate, does the domain point at the app as the public resolver sees it,
// and do its CAA records let our CA issue?
import { caaAnswers, caaLookupFailedMessage, checkCaa } from '../../domain/caa.ts';
import { checkPointing } from '../../domain/dns-check.ts';
import { commonNameProblem } from '../../domain/hostname.ts';
import { execute, loadDomain } from '../lib/streams.ts';
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
  const caa = await deps.dns.relevantCaaSet(input.hostname);
  if (caa && 'failure' in caa) {
    const message = caaLookupFailedMessage(input.hostname, caa.name, caa.failure);
    return fail(context, { reason: 'CAA_UNSUPPORTED', message, retryable: true, dnsAnswers: verdict.answers });
  }
  const answers = [...verdict.answers, ...caaAnswers(caa)];
  const ca = { issuerDomainNames: deps.config.caaIssuerDomainNames, validationMethod: 'http-01' } as const;
  const caaVerdict = checkCaa({ hostname: input.hostname, relevantSet: caa, ca, wildcard: false });
  if (!caaVerdict.allowed)
    return fail(context, { reason: 'CAA_FORBIDS', message: caaVerdict.message, retryable: false, dnsAnswers: answers });

  const outcome = { type: 'DnsVerified', data: { attempt: input.attempt, answers } } as const;
  await execute(deps, input, { type: 'RecordStepOutcome', outcome }, correlationId);
  return { verified: true, answers };
});
