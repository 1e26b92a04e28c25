// A fault-injecting HTTPS proxy in front of Pebble. Pebble 2.4 never answers with a
// rate limit, Retry-After, serverInternal, a 5xx or rejectedIdentifier; tests put this
// proxy between the ACME client and Pebble and inject those answers for real.
//
// Pebble builds every URL it returns (directory, Location, Link, order and
// authorization bodies) from the request's Host header, and checks that a JWS's
// `url` equals https://{Host}{path}. The client signs the proxy's URLs, so the proxy
// forwards the client's Host unchanged: Pebble then verifies the signature against
// the URL the client really signed and answers with the proxy's origin. Absolute
// URLs that still name Pebble's own origin are rewritten to the proxy's anyway.
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ariIdOf } from '../../functions/adapters/acme/acme-ca.ts';
import { ACME_ERROR_PREFIX } from '../../functions/domain/acme-problem.ts';
import {
  bucketId,
  bucketsForOrder,
  decideOrder,
  spendAnyway,
  exactSetKey,
  type Bucket,
  type BucketState,
  type LimitName,
  type Limits,
  type OrderRequest,
} from '../../functions/domain/rate-limits.ts';
import { createTlsCertificates } from './pebble.ts';

export type AcmeOperation =
  | 'newAccount'
  | 'newOrder'
  | 'authorization'
  | 'challenge'
  | 'finalize'
  | 'order'
  | 'certificate'
  | 'newNonce'
  | 'directory'
  /** POST to an account URL (/my-account/...). */
  | 'account'
  | 'keyChange'
  | 'revokeCert'
  /** RFC 9773's renewalInfo, answered by the proxy itself (Pebble 2.4 has none). */
  | 'renewalInfo'
  /** Anything else (Pebble's /list-orderz/..., unknown paths): forwarded and logged, never classified further. */
  | 'other';

export interface Fault {
  operation: AcmeOperation;
  /**
   * Only requests about this identifier (hostname, compared case-insensitively), when
   * known: from the newOrder payload, or from the order and authorization bodies the
   * proxy forwarded earlier. A request whose hostname is unknown never matches.
   */
  hostname?: string;
  /** How many matching requests to fail; default: all until cleared. */
  times?: number;
  /**
   * The chance (0 < p <= 1) that a matching request is failed; default 1. Each matching
   * request draws once per fault: one that does not fire is passed on to the next fault
   * that matches (in the order they were injected), then forwarded. `times` counts only
   * the requests it failed. A CA that answers 50% badNonce and 5% 500 on the same
   * operation is the 500 at 0.05, then badNonce at 0.5 / 0.95.
   */
  probability?: number;
  /** What to answer instead of forwarding. */
  response: {
    status: number;
    /** Answered as `application/problem+json` `{type, detail, status}` with a fresh Replay-Nonce. */
    problem?: { type: string; detail: string };
    retryAfterSeconds?: number;
    /** A non-ACME answer (a load balancer's 503 page): sent verbatim, without Replay-Nonce. */
    body?: string;
    /** Content type of `body`; default `text/html; charset=utf-8`. */
    contentType?: string;
  };
}

export interface AcmeFaultLogEntry {
  operation: AcmeOperation;
  /** The first identifier the request is about, when known. */
  hostname?: string;
  /** Every identifier the request is about (an order may have several), when known. */
  hostnames?: string[];
  /** The profile a newOrder asked for. */
  profile?: string;
  status: number;
  injected: boolean;
  method: string;
  path: string;
}

export interface AcmeFaultProxy {
  /** https://127.0.0.1:PORT/dir — give this to the ACME client instead of Pebble's. */
  directoryUrl: string;
  /** CA to trust for the proxy: Pebble's own when `serverTls` was given, else one generated at start. */
  tlsCaPem: string;
  inject(fault: Fault): void;
  clear(): void;
  /** Requests seen, in the order they were answered. */
  log: AcmeFaultLogEntry[];
  /** Moves one certificate's ARI window, like newer Pebble's set-renewal-info (a mass revocation, say). */
  setRenewalWindow(ariId: string, window: { start: string; end: string }, explanationUrl?: string): void;
  stop(): Promise<void>;
}

export interface AcmeFaultProxyOptions {
  upstreamDirectoryUrl: string;
  upstreamTlsCaPem: string;
  port?: number;
  /**
   * A certificate for 127.0.0.1 that `upstreamTlsCaPem` vouches for, e.g. Pebble's own
   * (`tls-cert.pem` and `tls-key.pem` in its dataDir): then one trust anchor serves
   * Pebble and the proxy, and `tlsCaPem` is `upstreamTlsCaPem`. Default: a throwaway CA.
   */
  serverTls?: { certificatePem: string; privateKeyPem: string };
  /**
   * Enforce these buckets as Let's Encrypt does (Pebble 2.4 has none): new orders spend the
   * account's bucket and are refused with `rateLimited` and Retry-After when any bucket is
   * empty; an issued certificate spends its registered domains' and its exact set's.
   */
  rateLimits?: Limits;
  /** Offer ACME Renewal Information (RFC 9773) as Let's Encrypt does; default true. */
  renewalInfo?: boolean;
  /** Where probabilistic faults draw from (uniform in [0, 1)); default Math.random. A seeded one makes a run repeatable. */
  random?: () => number;
}

/** Let's Encrypt's profiles (2026); Pebble 2.4 has none, so the proxy lists them and takes `profile` in newOrder. */
const PROFILES: Record<string, string> = {
  classic: 'The default: 90-day certificates',
  tlsserver: '45-day certificates for TLS servers; pending authorizations last an hour',
  shortlived: '160-hour certificates',
};

/** How Let's Encrypt words each refusal (the service reads which bucket from it). */
const LETS_ENCRYPT_WORDS: Record<LimitName, (capacity: number, key: string) => string> = {
  newOrdersPerAccount: (capacity) => `too many new orders (${capacity}) from this account`,
  certificatesPerRegisteredDomain: (capacity, key) => `too many certificates (${capacity}) already issued for "${key}"`,
  certificatesPerExactSet: (capacity) => `too many certificates (${capacity}) already issued for this exact set of identifiers`,
  failedAuthorizationsPerIdentifier: (capacity, key) => `too many failed authorizations (${capacity}) for "${key.split(' ').at(-1)}"`,
  newOrdersPerApp: () => 'not a limit of the CA',
};

/** The proxy's own ARI endpoint, under its origin. */
const RENEWAL_INFO_PATH = '/renewal-info';
/** Let's Encrypt asks for renewal information again after about six hours. */
const RENEWAL_INFO_RETRY_AFTER_SECONDS = 6 * 60 * 60;

const LOOPBACK = '127.0.0.1';
const UPSTREAM_TIMEOUT_MS = 10_000;
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'content-length',
]);

/** Pebble 2.4's paths for what its directory does not list (checked against the running binary). */
const PEBBLE_PATH_PREFIXES: Array<[string, AcmeOperation]> = [
  ['/authZ/', 'authorization'],
  ['/chalZ/', 'challenge'],
  ['/finalize-order/', 'finalize'],
  ['/my-order/', 'order'],
  ['/certZ/', 'certificate'],
  ['/my-account/', 'account'],
];

const DIRECTORY_RESOURCES: Array<[string, AcmeOperation]> = [
  ['newNonce', 'newNonce'],
  ['newAccount', 'newAccount'],
  ['newOrder', 'newOrder'],
  ['revokeCert', 'revokeCert'],
  ['keyChange', 'keyChange'],
];

interface Upstream {
  origin: string;
  hostname: string;
  port: number;
  agent: https.Agent;
}

interface KnownUrl {
  operation: AcmeOperation;
  hostnames: string[];
}

interface ActiveFault {
  fault: Fault;
  remaining: number;
}

interface Answer {
  status: number;
  headers: OutgoingHttpHeaders;
  body: Buffer;
}

export async function startAcmeFaultProxy(options: AcmeFaultProxyOptions): Promise<AcmeFaultProxy> {
  const upstreamDirectory = new URL(options.upstreamDirectoryUrl);
  if (upstreamDirectory.protocol !== 'https:') throw new Error(`the upstream directory must be https: ${options.upstreamDirectoryUrl}`);
  const upstream: Upstream = {
    origin: upstreamDirectory.origin,
    hostname: upstreamDirectory.hostname,
    port: Number(upstreamDirectory.port || 443),
    agent: new https.Agent({ ca: options.upstreamTlsCaPem, keepAlive: true }),
  };

  // What the upstream directory names, by path; it also proves the upstream answers and is trusted.
  const operationsByPath = new Map<string, AcmeOperation>([[upstreamDirectory.pathname, 'directory']]);
  let newNoncePath: string;
  try {
    const directory = await request(upstream, 'GET', upstreamDirectory.pathname, { host: upstreamDirectory.host }, Buffer.alloc(0));
    if (directory.status !== 200) throw new Error(`${options.upstreamDirectoryUrl} answered ${directory.status}`);
    const resources = JSON.parse(directory.body.toString('utf8')) as Record<string, unknown>;
    for (const [resource, operation] of DIRECTORY_RESOURCES) {
      const url = resources[resource];
      if (typeof url === 'string') operationsByPath.set(new URL(url).pathname, operation);
    }
    if (typeof resources.newNonce !== 'string') throw new Error(`${options.upstreamDirectoryUrl} lists no newNonce`);
    newNoncePath = new URL(resources.newNonce).pathname;
  } catch (error) {
    upstream.agent.destroy();
    throw new Error(`the ACME fault proxy could not read its upstream directory: ${(error as Error).message}`);
  }

  const tls = options.serverTls
    ? { caPem: options.upstreamTlsCaPem, certificatePem: options.serverTls.certificatePem, privateKeyPem: options.serverTls.privateKeyPem }
    : await createTlsCertificates();

  const known = new Map<string, KnownUrl>();
  let faults: ActiveFault[] = [];
  const buckets = new Map<string, BucketState>();
  /** Exact sets issued before: an order for one of them is a renewal, exempt from two buckets. */
  const issuedSets = new Set<string>();
  /** Which account each order's finalize URL belongs to. */
  const accountOfFinalize = new Map<string, string>();
  const offersRenewalInfo = options.renewalInfo ?? true;
  /** ARI: every certificate the CA issued, by identifier, and windows a test moved. */
  const issuedCertificates = new Map<string, { notBefore: number; notAfter: number }>();
  const movedWindows = new Map<string, { window: { start: string; end: string }; explanationUrl?: string }>();
  /** Certificates replaced by an issued certificate: a second replacement is refused. */
  const replaced = new Set<string>();
  /** The certificate each replacing order (by its finalize URL) replaces. */
  const replacing = new Map<string, string>();

  const take = (limits: Limits, bucket: Bucket, now: number): void => {
    const id = bucketId(bucket);
    buckets.set(id, spendAnyway(limits[bucket.limit], buckets.get(id), now));
  };

  /** Let's Encrypt's answer to an order that would go over a limit, or undefined when it may go. */
  const overLimit = async (request: OrderRequest, limits: Limits): Promise<Answer | undefined> => {
    const now = Date.now();
    const decision = decideOrder(limits, buckets, request, now);
    if (decision.allowed) return undefined;
    const retryAfterSeconds = Math.max(1, Math.ceil((decision.refillsAt - now) / 1000));
    const detail = `${LETS_ENCRYPT_WORDS[decision.bucket.limit](limits[decision.bucket.limit].capacity, decision.bucket.key)}: retry after ${new Date(decision.refillsAt).toISOString()}`;
    return injectedAnswer({
      operation: 'newOrder',
      response: { status: 429, problem: { type: `${ACME_ERROR_PREFIX}rateLimited`, detail }, retryAfterSeconds },
    });
  };
  const log: AcmeFaultLogEntry[] = [];
  let proxyOrigin = '';

  const classify = (path: string): AcmeOperation =>
    (offersRenewalInfo && path.startsWith(`${RENEWAL_INFO_PATH}/`) ? 'renewalInfo' : undefined) ??
    operationsByPath.get(path) ??
    known.get(path)?.operation ??
    PEBBLE_PATH_PREFIXES.find(([prefix]) => path.startsWith(prefix))?.[1] ??
    'other';

  const remember = (url: unknown, operation: AcmeOperation, hostnames: string[], refine = false): void => {
    if (typeof url !== 'string' || hostnames.length === 0) return;
    let path: string;
    try {
      path = new URL(url, proxyOrigin).pathname;
    } catch {
      return;
    }
    const existing = known.get(path);
    // An order names all its identifiers for each authorization; the authorization's own body is exact.
    if (existing && !refine && existing.hostnames.length <= hostnames.length) return;
    known.set(path, { operation, hostnames });
  };

  /** Learns which identifiers the URLs in a forwarded answer belong to. */
  const learn = (path: string, operation: AcmeOperation, answer: Answer, requestHostnames: string[]): void => {
    const contentType = String(answer.headers['content-type'] ?? '');
    if (answer.status >= 300) return;
    if (operation === 'certificate') {
      // Alternate chains belong to the same order.
      for (const url of linkUrls(answer.headers.link, 'alternate')) remember(url, 'certificate', requestHostnames);
      return;
    }
    if (!contentType.includes('json')) return;
    let body: unknown;
    try {
      body = JSON.parse(answer.body.toString('utf8'));
    } catch {
      return;
    }
    if (!isRecord(body)) return;
    if (Array.isArray(body.identifiers) && (Array.isArray(body.authorizations) || typeof body.finalize === 'string')) {
      const hostnames = body.identifiers.flatMap(identifierValue);
      const location = answer.headers.location;
      if (typeof location === 'string') remember(location, 'order', hostnames);
      remember(body.finalize, 'finalize', hostnames);
      remember(body.certificate, 'certificate', hostnames);
      const authorizations = Array.isArray(body.authorizations) ? body.authorizations : [];
      for (const url of authorizations) remember(url, 'authorization', hostnames);
    } else if (isRecord(body.identifier) && Array.isArray(body.challenges)) {
      // A wildcard order's authorization names the base domain and says `wildcard: true`.
      const hostnames = identifierValue(body.identifier).map((name) => (body.wildcard === true ? `*.${name}` : name));
      remember(path, 'authorization', hostnames, true);
      for (const challenge of body.challenges) if (isRecord(challenge)) remember(challenge.url, 'challenge', hostnames, true);
    }
  };

  const random = options.random ?? Math.random;
  const takeFault = (operation: AcmeOperation, hostnames: string[]): Fault | undefined => {
    const lowered = hostnames.map((name) => name.toLowerCase());
    const active = faults.find(
      ({ fault }) =>
        fault.operation === operation &&
        (fault.hostname === undefined || lowered.includes(fault.hostname.toLowerCase())) &&
        (fault.probability === undefined || random() < fault.probability),
    );
    if (!active) return undefined;
    active.remaining -= 1;
    if (active.remaining <= 0) faults = faults.filter((candidate) => candidate !== active);
    return active.fault;
  };

  /** A new order spends the account's bucket; an issued certificate its registered domains' and its exact set's. */
  const spendFor = (limits: Limits, operation: AcmeOperation, path: string, answer: Answer, request: OrderRequest | undefined): void => {
    const now = Date.now();
    if (operation === 'newOrder' && request && answer.status === 201) {
      for (const bucket of bucketsForOrder(request).spend) if (bucket.limit === 'newOrdersPerAccount') take(limits, bucket, now);
      const finalize = jsonField(answer.body, 'finalize');
      if (finalize) accountOfFinalize.set(new URL(finalize, proxyOrigin).pathname, request.accountUrl);
    }
    if (operation === 'finalize' && answer.status === 200) {
      const names = known.get(path)?.hostnames ?? [];
      const request = {
        accountUrl: accountOfFinalize.get(path) ?? '',
        names,
        kind: issuedSets.has(exactSetKey(names)) ? 'renewal' : 'new',
      } as const;
      for (const bucket of bucketsForOrder(request).spend) if (bucket.limit !== 'newOrdersPerAccount') take(limits, bucket, now);
      issuedSets.add(exactSetKey(names));
    }
  };

  /** The directory as Let's Encrypt's reads: its profiles, and renewalInfo when ARI is on. */
  const asLetsEncrypt = (answer: Answer): Answer => {
    const directory = JSON.parse(answer.body.toString('utf8')) as Record<string, unknown>;
    const meta = { ...(isRecord(directory.meta) ? directory.meta : {}), profiles: PROFILES };
    const renewalInfo = offersRenewalInfo ? { renewalInfo: `${proxyOrigin}${RENEWAL_INFO_PATH}` } : {};
    return { ...answer, body: Buffer.from(JSON.stringify({ ...directory, meta, ...renewalInfo }), 'utf8') };
  };

  const rememberIssued = (chain: Buffer): void => {
    const [leafPem] = chain.toString('utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/) ?? [];
    if (!leafPem) return;
    const leaf = new X509Certificate(leafPem);
    const ariId = ariIdOf(leafPem);
    if (ariId) issuedCertificates.set(ariId, { notBefore: Date.parse(leaf.validFrom), notAfter: Date.parse(leaf.validTo) });
  };

  /** Let's Encrypt's default: a window in the last third of the lifetime; a moved one as the test set it. */
  const windowOf = (ariId: string): { start: string; end: string } | undefined => {
    const moved = movedWindows.get(ariId)?.window;
    const issued = issuedCertificates.get(ariId);
    if (moved || !issued) return moved;
    const lifetime = issued.notAfter - issued.notBefore;
    const start = issued.notAfter - lifetime / 3;
    return { start: new Date(start).toISOString(), end: new Date(start + lifetime / 6).toISOString() };
  };

  /** An ARI renewal is exempt only inside the replaced certificate's window, as at Let's Encrypt. */
  const insideWindow = (ariId: string | undefined): boolean => {
    const window = ariId === undefined ? undefined : windowOf(ariId);
    return window !== undefined && Date.parse(window.start) <= Date.now() && Date.now() <= Date.parse(window.end);
  };

  const renewalInfoAnswer = (ariId: string): Answer => {
    const json = (status: number, value: unknown, headers: OutgoingHttpHeaders = {}): Answer => ({
      status,
      headers: { 'content-type': 'application/json', ...headers },
      body: Buffer.from(JSON.stringify(value), 'utf8'),
    });
    const window = windowOf(ariId);
    if (!window) return json(404, { type: `${ACME_ERROR_PREFIX}malformed`, detail: `no certificate ${ariId}` });
    const explanationUrl = movedWindows.get(ariId)?.explanationUrl;
    const suggestion = { suggestedWindow: window, ...(explanationUrl && { explanationURL: explanationUrl }) };
    return json(200, suggestion, { 'retry-after': String(RENEWAL_INFO_RETRY_AFTER_SECONDS) });
  };

  const freshNonce = async (): Promise<string | undefined> => {
    try {
      const answer = await request(upstream, 'HEAD', newNoncePath, { host: upstreamDirectory.host }, Buffer.alloc(0));
      const nonce = answer.headers['replay-nonce'];
      return typeof nonce === 'string' ? nonce : undefined;
    } catch {
      return undefined;
    }
  };

  const injectedAnswer = async (fault: Fault): Promise<Answer> => {
    const { status, problem, retryAfterSeconds, body, contentType } = fault.response;
    const headers: OutgoingHttpHeaders = { 'cache-control': 'no-store' };
    if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
    if (body !== undefined) {
      headers['content-type'] = contentType ?? 'text/html; charset=utf-8';
      return { status, headers, body: Buffer.from(body, 'utf8') };
    }
    const nonce = await freshNonce();
    if (nonce) headers['replay-nonce'] = nonce;
    headers.link = `<${proxyOrigin}${upstreamDirectory.pathname}>;rel="index"`;
    if (!problem) return { status, headers, body: Buffer.alloc(0) };
    headers['content-type'] = 'application/problem+json';
    return { status, headers, body: Buffer.from(JSON.stringify({ type: problem.type, detail: problem.detail, status })) };
  };

  const forward = async (method: string, url: string, headers: IncomingHttpHeaders, body: Buffer): Promise<Answer> => {
    const outgoing: OutgoingHttpHeaders = {};
    // Host is kept: Pebble checks each JWS's `url` against https://{Host}{path}.
    for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) outgoing[name] = value;
    if (body.length > 0) outgoing['content-length'] = body.length;
    const answer = await request(upstream, method, url, outgoing, body);
    const rewritten: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name)) continue;
      rewritten[name] = name === 'location' || name === 'link' ? rewriteOrigin(value, upstream.origin, proxyOrigin) : value;
    }
    const textual = /json|text|pem/.test(String(answer.headers['content-type'] ?? ''));
    const rewrittenBody = textual
      ? Buffer.from(rewriteOrigin(answer.body.toString('utf8'), upstream.origin, proxyOrigin), 'utf8')
      : answer.body;
    return { status: answer.status, headers: rewritten, body: rewrittenBody };
  };

  const handle = async (incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> => {
    const method = incoming.method ?? 'GET';
    const url = incoming.url ?? '/';
    const path = new URL(url, 'https://proxy.invalid').pathname;
    const body = await readBody(incoming);
    const operation = classify(path);
    const hostnames = operation === 'newOrder' ? orderPayloadHostnames(body) : (known.get(path)?.hostnames ?? []);

    const fault = takeFault(operation, hostnames);
    const limits = options.rateLimits;
    const orderRequest: OrderRequest | undefined =
      limits && operation === 'newOrder'
        ? {
            accountUrl: jwsKid(body) ?? '',
            names: hostnames,
            // Let's Encrypt exempts an ARI renewal (one that names what it replaces, inside its window) from every limit.
            kind: insideWindow(orderPayloadField(body, 'replaces'))
              ? 'ari-renewal'
              : issuedSets.has(exactSetKey(hostnames))
                ? 'renewal'
                : 'new',
          }
        : undefined;
    const limited = !fault && orderRequest && limits ? await overLimit(orderRequest, limits) : undefined;
    const replaces = operation === 'newOrder' ? orderPayloadField(body, 'replaces') : undefined;
    const profile = operation === 'newOrder' ? orderPayloadField(body, 'profile') : undefined;
    let answer: Answer;
    if (fault || limited) {
      answer = limited ?? (await injectedAnswer(fault!));
    } else if (operation === 'renewalInfo') {
      answer = renewalInfoAnswer(decodeURIComponent(path.slice(RENEWAL_INFO_PATH.length + 1)));
    } else if (profile !== undefined && !(profile in PROFILES)) {
      const detail = `profile "${profile}" is not one of ${Object.keys(PROFILES).join(', ')}`;
      answer = await injectedAnswer({
        operation,
        response: { status: 400, problem: { type: `${ACME_ERROR_PREFIX}invalidProfile`, detail } },
      });
    } else if (replaces && replaced.has(replaces)) {
      const detail = `certificate ${replaces} has already been replaced by another order`;
      answer = await injectedAnswer({
        operation,
        response: { status: 409, problem: { type: `${ACME_ERROR_PREFIX}alreadyReplaced`, detail } },
      });
    } else {
      try {
        answer = await forward(method, url, incoming.headers, body);
        learn(path, operation, answer, hostnames);
        if (operation === 'directory' && answer.status === 200) answer = asLetsEncrypt(answer);
        if (operation === 'certificate' && answer.status === 200) rememberIssued(answer.body);
        if (replaces && answer.status === 201) {
          // Replaced once its replacement is issued: a replacing order that fails leaves room for another.
          const finalize = jsonField(answer.body, 'finalize');
          if (finalize) replacing.set(new URL(finalize, proxyOrigin).pathname, replaces);
        }
        if (operation === 'finalize' && answer.status === 200 && replacing.has(path)) replaced.add(replacing.get(path)!);
        if (limits) spendFor(limits, operation, path, answer, orderRequest);
      } catch (error) {
        answer = {
          status: 502,
          headers: { 'content-type': 'text/plain; charset=utf-8' },
          body: Buffer.from(`the ACME fault proxy could not reach ${upstream.origin}: ${(error as Error).message}`),
        };
      }
    }
    const names = hostnames.length > 0 ? hostnames : (known.get(path)?.hostnames ?? []);
    log.push({
      operation,
      ...(names.length > 0 && { hostname: names[0], hostnames: names }),
      ...(profile && { profile }),
      status: answer.status,
      injected: fault !== undefined,
      method,
      path,
    });
    outgoing.writeHead(answer.status, { ...answer.headers, 'content-length': answer.body.length });
    outgoing.end(method === 'HEAD' ? undefined : answer.body);
  };

  const server = https.createServer({ key: tls.privateKeyPem, cert: tls.certificatePem }, (incoming, outgoing) => {
    handle(incoming, outgoing).catch((error: unknown) => {
      if (!outgoing.headersSent) outgoing.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      outgoing.end(`the ACME fault proxy failed: ${(error as Error).message}`);
    });
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, LOOPBACK, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    upstream.agent.destroy();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  proxyOrigin = `https://${LOOPBACK}:${port}`;

  let stopped: Promise<void> | undefined;
  return {
    directoryUrl: `${proxyOrigin}${upstreamDirectory.pathname}`,
    tlsCaPem: tls.caPem,
    log,
    inject(fault) {
      const times = fault.times ?? Number.POSITIVE_INFINITY;
      if (!(times >= 1) || (Number.isFinite(times) && !Number.isInteger(times)))
        throw new Error(`times must be a whole number from 1: ${fault.times}`);
      if (fault.probability !== undefined && !(fault.probability > 0 && fault.probability <= 1))
        throw new Error(`probability must be above 0 and at most 1: ${fault.probability}`);
      if (fault.response.problem && fault.response.body !== undefined)
        throw new Error('a fault answers with a problem or a body, not both');
      if (fault.response.problem && !fault.response.problem.type.includes(':')) {
        throw new Error(`a problem type is a URI, such as ${ACME_ERROR_PREFIX}rateLimited: ${fault.response.problem.type}`);
      }
      faults.push({ fault, remaining: times });
    },
    clear() {
      faults = [];
    },
    setRenewalWindow(ariId, window, explanationUrl) {
      movedWindows.set(ariId, { window, ...(explanationUrl && { explanationUrl }) });
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
        upstream.agent.destroy();
      });
      return stopped;
    },
  };
}

function request(upstream: Upstream, method: string, path: string, headers: OutgoingHttpHeaders, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = https.request(
      { hostname: upstream.hostname, port: upstream.port, method, path, headers, agent: upstream.agent, timeout: UPSTREAM_TIMEOUT_MS },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
        response.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${UPSTREAM_TIMEOUT_MS} ms`)));
    outgoing.on('error', reject);
    outgoing.end(body.length > 0 ? body : undefined);
  });
}

function readBody(incoming: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => resolve(Buffer.concat(chunks)));
    incoming.on('error', reject);
  });
}

function jsonField(body: Buffer, field: string): string | undefined {
  const parsed = parseJson(body.toString('utf8'));
  return isRecord(parsed) && typeof parsed[field] === 'string' ? parsed[field] : undefined;
}

/** One part of a JWS (`protected` or `payload`), base64url JSON, decoded. */
function jwsPart(body: Buffer, part: 'protected' | 'payload'): Record<string, unknown> | undefined {
  const jws = parseJson(body.toString('utf8'));
  if (!isRecord(jws) || typeof jws[part] !== 'string') return undefined;
  const decoded = parseJson(Buffer.from(jws[part], 'base64url').toString('utf8'));
  return isRecord(decoded) ? decoded : undefined;
}

/** The account a JWS is signed for: its protected header's `kid`. */
function jwsKid(body: Buffer): string | undefined {
  const kid = jwsPart(body, 'protected')?.kid;
  return typeof kid === 'string' ? kid : undefined;
}

/** A string field of a JWS's payload (a newOrder's `replaces`, say). */
function orderPayloadField(body: Buffer, field: string): string | undefined {
  const value = jwsPart(body, 'payload')?.[field];
  return typeof value === 'string' ? value : undefined;
}

/** The identifiers a newOrder JWS asks for: its payload is base64url JSON `{identifiers: [{type, value}]}`. */
function orderPayloadHostnames(body: Buffer): string[] {
  const identifiers = jwsPart(body, 'payload')?.identifiers;
  return Array.isArray(identifiers) ? identifiers.flatMap(identifierValue) : [];
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function identifierValue(identifier: unknown): string[] {
  return isRecord(identifier) && typeof identifier.value === 'string' ? [identifier.value] : [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function rewriteOrigin<T extends string | string[] | number>(value: T, from: string, to: string): T {
  if (typeof value === 'string') return value.replaceAll(from, to) as T;
  if (Array.isArray(value)) return value.map((item) => item.replaceAll(from, to)) as T;
  return value;
}

/** URLs of `Link: <url>;rel="relation"` headers. */
function linkUrls(header: string | string[] | number | undefined, relation: string): string[] {
  if (header === undefined || typeof header === 'number') return [];
  const values = Array.isArray(header) ? header : [header];
  return values
    .flatMap((value) => value.split(/,(?=\s*<)/))
    .flatMap((link) => {
      const match = /^\s*<([^>]*)>(.*)$/.exec(link);
      return match && new RegExp(`rel="?${relation}"?`).test(match[2] ?? '') ? [match[1]!] : [];
    });
}
