// SelfCheckChallenge: fetch our own challenge URL through the domain, as the CA will.
import { judgeChallengeResponse } from '../../domain/self-check.ts';
import { probeChallenge } from '../../adapters/challenges/challenge-probe.ts';
import { loadOrder } from '../lib/domain-stream.ts';
import { fail, stepHandler } from '../lib/step.ts';

export const handler = stepHandler(async (_event, context) => {
  const { input, deps } = context;
  const { token } = await loadOrder(deps, input);
  const expected = await (await deps.certificateAuthority()).keyAuthorization(token);
  const resolution = await deps.dns.resolve(input.hostname);
  const address = 'failure' in resolution ? undefined : (resolution.ipv4[0] ?? resolution.ipv6[0]);
  if (!address) {
    return fail(context, { reason: 'DNS_UNRESOLVABLE', message: `${input.hostname} stopped resolving before the challenge could be checked.`, retryable: true });
  }
  const response = await probeChallenge(address, deps.config.httpChallengePort, input.hostname, token).catch((error: Error) => error);
  if (response instanceof Error) {
    return fail(context, { reason: 'DNS_INCORRECT', message: `${input.hostname} did not answer the challenge: ${response.message}`, retryable: true });
  }
  const verdict = judgeChallengeResponse(input.hostname, token, expected, response);
  if (!verdict.passed) return fail(context, { reason: verdict.reason, message: verdict.message, retryable: true });
  return { passed: true, address };
});
