// Our own look at the HTTP-01 challenge URL before the CA looks: a failed CA
// validation costs rate-limit budget, a failed self-check costs nothing.
import type { FailureReason } from './failure-reasons.ts';

export interface ChallengeResponse {
  status: number;
  body: string;
  location?: string;
}

export type SelfCheckVerdict = { passed: true } | { passed: false; reason: FailureReason; message: string };

export function challengePath(token: string): string {
  return `/.well-known/acme-challenge/${token}`;
}

export function judgeChallengeResponse(hostname: string, token: string, expected: string, response: ChallengeResponse): SelfCheckVerdict {
  const url = `http://${hostname}${challengePath(token)}`;
  if (response.status === 200 && response.body.trim() === expected) return { passed: true };
  if (response.status >= 300 && response.status < 400) {
    // The CA follows redirects, but only ones that keep the challenge path.
    if (response.location?.includes(challengePath(token))) return { passed: true };
    return {
      passed: false,
      reason: 'REDIRECT_DROPS_PATH',
      message: `${url} redirects to ${response.location ?? 'nowhere'}, which drops the path. Redirects must keep /.well-known/acme-challenge/.`,
    };
  }
  if (response.status === 404) {
    return {
      passed: false,
      reason: 'CDN_NO_CHALLENGE',
      message: `${url} answers 404. If a CDN or proxy is in front of the app, let /.well-known/acme-challenge/ through to it.`,
    };
  }
  return {
    passed: false,
    reason: 'DNS_INCORRECT',
    message: `${url} answered ${response.status} with something other than the challenge: ${hostname} does not reach this app yet.`,
  };
}
