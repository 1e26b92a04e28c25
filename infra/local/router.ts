// The platform's edge, for the local cloud: plain HTTP answers HTTP-01 challenges
// (the port Pebble validates on), HTTPS picks the installed certificate by SNI,
// so `curl --resolve` can prove what was issued.
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { LocalCertificateStore } from '../../functions/adapters/certificates/local-certificate-store.ts';
import { listen, type ApiDispatcher, type LocalServer } from './api-server.ts';

const CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

/** How the edge can get HTTP-01 wrong for a domain, as CDNs and proxies do in the wild. */
export type ChallengeFault = { status: 404 } | { redirectTo: string };

export interface Router {
  http: LocalServer;
  https: LocalServer;
  /** Per hostname; tests set and delete them. */
  challengeFaults: Map<string, ChallengeFault>;
  close(): Promise<void>;
}

export async function startRouter(options: {
  dispatch: ApiDispatcher;
  certificates: LocalCertificateStore;
  httpPort: number;
  httpsPort: number;
}): Promise<Router> {
  const challengeFaults = new Map<string, ChallengeFault>();
  const plain = http.createServer(async (request, response) => {
    const path = request.url ?? '/';
    if (!path.startsWith(CHALLENGE_PREFIX)) {
      response.writeHead(200, { 'content-type': 'text/plain' }).end(`app served for ${request.headers.host ?? 'unknown host'}\n`);
      return;
    }
    const fault = challengeFaults.get((request.headers.host ?? '').replace(/:\d+$/, '').toLowerCase());
    if (fault) {
      if ('status' in fault) response.writeHead(fault.status, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>');
      else response.writeHead(301, { location: fault.redirectTo }).end();
      return;
    }
    // The edge hands challenge paths to the service's own challenge route.
    const answer = await options.dispatch({ method: 'GET', path, headers: {} });
    response.writeHead(answer.statusCode, { 'content-type': 'text/plain' }).end(answer.body);
  });

  const secure = https.createServer(
    {
      SNICallback: (servername, done) => {
        options.certificates
          .findForHostname(servername.toLowerCase())
          .then(
            (found) =>
              found
                ? done(null, tls.createSecureContext({ cert: found.chainPem, key: found.privateKeyPem }))
                : done(new Error(`no certificate installed for ${servername}`)),
            done,
          );
      },
    },
    (request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' }).end(`hello over HTTPS from ${request.headers.host ?? 'unknown host'}\n`);
    },
  );

  const [httpServer, httpsServer] = await Promise.all([
    listen(plain, options.httpPort, 'http'),
    listen(secure, options.httpsPort, 'https'),
  ]);
  return {
    http: httpServer,
    https: httpsServer,
    challengeFaults,
    close: async () => {
      await Promise.all([httpServer.close(), httpsServer.close()]);
    },
  };
}
