// The demo app's backend, behind the local router: it answers every request with what
// reached it (method, path, headers), so a person with curl and tests alike can see what
// the edge passed on: X-Forwarded-*, and challenge paths once automation is off.
import http from 'node:http';
import { listen, type LocalServer } from './api-server.ts';

export interface AppRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

export interface AppBackend extends LocalServer {
  /** What reached the app, oldest first (the latest 1,000). */
  requests: AppRequest[];
}

const KEPT_REQUESTS = 1000;

export async function startAppBackend(): Promise<AppBackend> {
  const requests: AppRequest[] = [];
  const server = http.createServer((request, response) => {
    request.resume(); // a body is read and dropped
    request.on('end', () => {
      const seen: AppRequest = { method: request.method ?? 'GET', url: request.url ?? '/', headers: request.headers };
      requests.push(seen);
      if (requests.length > KEPT_REQUESTS) requests.shift();
      response.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify({ servedBy: 'app', ...seen }, null, 2)}\n`);
    });
  });
  return { ...(await listen(server, 0, 'http')), requests };
}
