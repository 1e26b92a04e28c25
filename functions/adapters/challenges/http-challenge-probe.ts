// Fetches a challenge URL the way the CA will: plain HTTP to the address DNS gives,
// the domain in the Host header, redirects reported rather than followed.
import http from 'node:http';
import { challengePath, type ChallengeResponse } from '../../domain/self-check.ts';
import type { ChallengeProbe } from './challenge-probe.ts';

const PROBE_TIMEOUT_MS = 5000;
const MAX_BODY_BYTES = 8192;

export class HttpChallengeProbe implements ChallengeProbe {
  /** The port the CA validates HTTP-01 on: 80, except on this machine. */
  constructor(private readonly port: number) {}

  fetch(address: string, hostname: string, token: string): Promise<ChallengeResponse> {
    return probe(address, this.port, hostname, token);
  }
}

function probe(address: string, port: number, hostname: string, token: string): Promise<ChallengeResponse> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      { host: address, port, path: challengePath(token), headers: { host: hostname }, timeout: PROBE_TIMEOUT_MS },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (body.length < MAX_BODY_BYTES) body += chunk;
        });
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body, ...(response.headers.location && { location: response.headers.location }) }),
        );
      },
    );
    request.on('timeout', () =>
      request.destroy(new Error(`no answer from ${hostname} (${address}:${port}) within ${PROBE_TIMEOUT_MS} ms`)),
    );
    request.on('error', reject);
  });
}
