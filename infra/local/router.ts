// The platform's edge, for the local cloud. Plain HTTP answers HTTP-01 challenges (the port
// Pebble validates on) while the app's automation is on, and passes everything else to the
// app's backend; HTTPS picks the installed certificate by SNI, applies the app's TLS policy,
// and passes the requests on to the app too, saying who called (X-Forwarded-For, -Proto, -Port).
//
// Node applies protocol versions and ciphers per server: a SecureContext returned by
// SNICallback changes the certificate and nothing else (OpenSSL has chosen the version by
// then). So the HTTPS port is a TCP front that reads the ClientHello's server name, looks
// up that name's policy, and hands the connection to the TLS server of that policy. Each
// connection is looked up afresh: a policy change applies to the next handshake.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { LocalCertificateStore } from '../../functions/adapters/certificates/local-certificate-store.ts';
import type { EdgeSettings } from '../../functions/application/tls-policy.ts';
import {
  DEFAULT_TLS_POLICY,
  TLS_POLICIES,
  TLS_POLICY_NAMES,
  type TlsPolicy,
  type TlsPolicyName,
} from '../../functions/domain/tls-policy.ts';
import { listen, type ApiDispatcher, type LocalServer } from './api-server.ts';
import { startAppBackend, type AppBackend } from './app-backend.ts';
import { clientHelloBytes, serverNameOf } from './client-hello.ts';

const CHALLENGE_PREFIX = '/.well-known/acme-challenge/';
/** A client that sends no ClientHello in this time is dropped. */
const CLIENT_HELLO_TIMEOUT_MS = 10_000;
/** Headers about one connection, not the request (RFC 9110 §7.6.1): never passed on. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade'];

/** How the edge can get HTTP-01 wrong for a domain, as CDNs and proxies do in the wild. */
export type ChallengeFault = { status: 404 } | { redirectTo: string };

export interface Router {
  http: LocalServer;
  https: LocalServer;
  /** The demo app's backend: what the router passes on reaches it, and it answers with what it saw. */
  app: AppBackend;
  /** Per hostname; tests set and delete them. */
  challengeFaults: Map<string, ChallengeFault>;
  close(): Promise<void>;
}

export async function startRouter(options: {
  dispatch: ApiDispatcher;
  certificates: LocalCertificateStore;
  /** What the edge applies to a hostname, read at each connection and each challenge request. */
  edge: (hostname: string) => Promise<EdgeSettings>;
  httpPort: number;
  httpsPort: number;
}): Promise<Router> {
  const challengeFaults = new Map<string, ChallengeFault>();
  const app = await startAppBackend();
  const toApp = (proto: 'http' | 'https') => (request: http.IncomingMessage, response: http.ServerResponse) =>
    forward(request, response, proto, app.port);

  const plain = http.createServer(async (request, response) => {
    const path = request.url ?? '/';
    const hostname = (request.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    try {
      // With automation off the app answers its own challenge paths (it may run its own ACME client).
      if (!path.startsWith(CHALLENGE_PREFIX) || !(await options.edge(hostname)).acmEnabled) return toApp('http')(request, response);
    } catch {
      return void response.writeHead(502, { 'content-type': 'text/plain' }).end('the edge could not read its settings\n');
    }
    const fault = challengeFaults.get(hostname);
    if (fault) {
      if ('status' in fault) response.writeHead(fault.status, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>');
      else response.writeHead(301, { location: fault.redirectTo }).end();
      return;
    }
    // The edge hands challenge paths to the service's own challenge route.
    const answer = await options.dispatch({ method: 'GET', path, headers: {} });
    response.writeHead(answer.statusCode, { 'content-type': 'text/plain' }).end(answer.body);
  });

  const SNICallback = (servername: string, done: (error: Error | null, context?: tls.SecureContext) => void) => {
    options.certificates
      .findForHostname(servername.toLowerCase())
      .then(
        (found) =>
          found
            ? done(null, tls.createSecureContext({ cert: found.chainPem, key: found.privateKeyPem }))
            : done(new Error(`no certificate installed for ${servername}`)),
        done,
      );
  };
  const byPolicy = Object.fromEntries(
    TLS_POLICY_NAMES.map((name) => [name, https.createServer({ ...serverTlsOptions(TLS_POLICIES[name]), SNICallback }, toApp('https'))]),
  ) as Record<TlsPolicyName, https.Server>;

  const connections = new Set<net.Socket>();
  const handOver = async (socket: net.Socket) => {
    const hello = await readClientHello(socket);
    const servername = serverNameOf(hello);
    const policy = servername ? (await options.edge(servername)).tlsPolicy : DEFAULT_TLS_POLICY;
    socket.unshift(hello);
    byPolicy[policy].emit('connection', socket);
  };
  const front = net.createServer((socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
    socket.on('error', () => socket.destroy());
    handOver(socket).catch(() => socket.destroy());
  });

  const [httpServer, frontServer] = await Promise.all([listen(plain, options.httpPort, 'http'), listen(front, options.httpsPort, 'https')]);
  const httpsServer: LocalServer = {
    ...frontServer,
    close: async () => {
      for (const socket of connections) socket.destroy();
      await frontServer.close();
    },
  };
  return {
    http: httpServer,
    https: httpsServer,
    app,
    challengeFaults,
    close: async () => {
      await Promise.all([httpServer.close(), httpsServer.close(), app.close()]);
    },
  };
}

/** A policy as Node's TLS server options: the versions' range and the ciphers in the policy's order. */
export function serverTlsOptions(policy: TlsPolicy): tls.TlsOptions {
  // OpenSSL 3 refuses TLS 1.0 and 1.1 above security level 0 (their handshakes sign with SHA-1 and MD5).
  const needsLevelZero = policy.protocols.includes('TLSv1') || policy.protocols.includes('TLSv1.1');
  return {
    minVersion: policy.protocols[0],
    maxVersion: policy.protocols[policy.protocols.length - 1],
    ciphers: [...policy.ciphers, ...(needsLevelZero ? ['@SECLEVEL=0'] : [])].join(':'),
    honorCipherOrder: true,
  };
}

/** The connection's first TLS record, once it is all in; the socket is paused and holds nothing else read. */
function readClientHello(socket: net.Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new Error('no ClientHello in time')), CLIENT_HELLO_TIMEOUT_MS);
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.off('data', onData).off('end', onEnd);
      socket.pause();
      if (error) reject(error);
      else resolve(buffered);
    };
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const needed = clientHelloBytes(buffered);
      if (needed !== undefined && buffered.length >= needed) finish();
    };
    const onEnd = () => finish(new Error('closed before its ClientHello'));
    socket.on('data', onData).on('end', onEnd);
  });
}

/**
 * Passes a request to the app, as a load balancer does: the caller's address appended to
 * X-Forwarded-For (what the client sent there is kept, not trusted: the last entry is the
 * edge's own), X-Forwarded-Proto and X-Forwarded-Port set by the edge alone.
 */
function forward(request: http.IncomingMessage, response: http.ServerResponse, proto: 'http' | 'https', appPort: number): void {
  const headers: http.OutgoingHttpHeaders = withoutHopByHop(request.headers);
  headers['x-forwarded-for'] = forwardedFor(request.headers['x-forwarded-for'], request.socket.remoteAddress);
  headers['x-forwarded-proto'] = proto;
  headers['x-forwarded-port'] = String(request.socket.localPort ?? '');
  const upstream = http.request({ host: '127.0.0.1', port: appPort, method: request.method, path: request.url, headers }, (answer) => {
    response.writeHead(answer.statusCode ?? 502, withoutHopByHop(answer.headers));
    answer.pipe(response);
  });
  upstream.on('error', () => {
    if (response.headersSent) response.destroy();
    else response.writeHead(502, { 'content-type': 'text/plain' }).end('the app did not answer\n');
  });
  request.pipe(upstream);
}

/** `client, proxy1, ..., <the address that connected to the edge>`. */
export function forwardedFor(incoming: string | string[] | undefined, remoteAddress: string | undefined): string {
  const caller = (remoteAddress ?? 'unknown').replace(/^::ffff:/, '');
  const before = [incoming ?? []].flat().join(', ').trim();
  return before ? `${before}, ${caller}` : caller;
}

function withoutHopByHop(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const named = new Set([
    ...HOP_BY_HOP,
    ...String(headers.connection ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase()),
  ]);
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !named.has(name)));
}
