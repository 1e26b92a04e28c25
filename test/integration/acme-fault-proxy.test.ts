// The fault-injecting ACME proxy in front of real Pebble: what Pebble cannot do (rate
// limits with Retry-After, serverInternal, 5xx pages, rejectedIdentifier) provoked for
// real, and surfaced by our ACME adapter exactly as a CA's answer would be.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import type http from 'node:http';
import https from 'node:https';
import acme from 'acme-client';
import { AcmeCertificateAuthority } from '../../functions/adapters/acme/acme-ca.ts';
import { AcmeProblemError } from '../../functions/adapters/acme/certificate-authority.ts';
import { startAcmeFaultProxy, type AcmeFaultProxy, type AcmeOperation } from '../../infra/local/acme-fault-proxy.ts';
import { settledAuthorization, useAcmeTestbed, validatedOrder as validatedOrderOf } from '../support/acme-testbed.ts';

const ERROR = 'urn:ietf:params:acme:error:';

let proxy: AcmeFaultProxy;
let ca: AcmeCertificateAuthority;
const testbed = useAcmeTestbed(async ({ pebble }) => {
  proxy = await startAcmeFaultProxy({ upstreamDirectoryUrl: pebble.directoryUrl, upstreamTlsCaPem: pebble.tlsCaPem });
  ca = new AcmeCertificateAuthority({
    directoryUrl: proxy.directoryUrl,
    accountKey: { load: async () => (await acme.crypto.createPrivateEcdsaKey()).toString() },
    directoryTlsCaPem: proxy.tlsCaPem,
    pollMinMs: 50,
  });
});
after(() => proxy?.stop());

async function validatedOrder(hostname: string) {
  const { order, authorization } = await validatedOrderOf(testbed(), ca, hostname);
  assert.equal(authorization.status, 'valid');
  return order;
}

/** The chain the CA issues for an order of the name. */
async function chainOf(orderUrl: string, hostname: string): Promise<string[]> {
  return acme.crypto.splitPemChain((await ca.issue(orderUrl, hostname)).chainPem);
}

async function issue(hostname: string): Promise<string[]> {
  const order = await validatedOrder(hostname);
  return chainOf(order.orderUrl, hostname);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail('the call should have failed'),
    (caught: unknown) => caught,
  );
}

function entriesFor(hostname: string) {
  return proxy.log.filter((entry) => entry.hostname === hostname);
}

test("a full issuance passes through the proxy unchanged: Pebble's chain comes back, every URL points at the proxy", async () => {
  const hostname = 'www.through.test';
  const logStart = proxy.log.length;
  const chain = await issue(hostname);
  assert.equal(chain.length, 2, 'leaf and intermediate');
  const leaf = new X509Certificate(chain[0]!);
  const intermediate = new X509Certificate(chain[1]!);
  assert.equal(leaf.subjectAltName, `DNS:${hostname}`);
  assert.ok(leaf.verify(intermediate.publicKey));
  assert.ok(intermediate.verify(new X509Certificate(await testbed().pebble.rootCertificatePem()).publicKey), 'issued by this Pebble');

  const seen = proxy.log.slice(logStart);
  // A key is looked up before it is registered (onlyReturnExisting): a new one is answered accountDoesNotExist.
  const lookups = seen.filter((entry) => entry.operation === 'newAccount' && entry.status === 400);
  assert.ok(lookups.length <= 1, JSON.stringify(lookups));
  assert.ok(
    seen.every((entry) => !entry.injected && (entry.status < 300 || lookups.includes(entry))),
    JSON.stringify(seen),
  );
  const operations = new Set(seen.map((entry) => entry.operation));
  for (const operation of [
    'newNonce',
    'newOrder',
    'authorization',
    'challenge',
    'order',
    'finalize',
    'certificate',
  ] satisfies AcmeOperation[]) {
    assert.ok(operations.has(operation), `saw ${operation}`);
  }
  // Everything about the order is attributed to its name; nonces and the account are not.
  for (const entry of seen) {
    if (entry.operation === 'newNonce' || entry.operation === 'newAccount' || entry.operation === 'directory')
      assert.equal(entry.hostname, undefined);
    else assert.equal(entry.hostname, hostname, `${entry.operation} ${entry.path}`);
  }
  assert.ok(
    proxy.log.some((entry) => entry.operation === 'directory'),
    'the client read the directory through the proxy',
  );
});

test("URLs the client gets back name the proxy's origin, not Pebble's", async () => {
  testbed().dns.zone.set('www.urls.test', 'A', ['127.0.0.1']);
  const order = await ca.createOrder('www.urls.test');
  const proxyOrigin = new URL(proxy.directoryUrl).origin;
  for (const url of [order.orderUrl, order.authorizationUrl, order.challengeUrl]) assert.equal(new URL(url).origin, proxyOrigin);
  assert.notEqual(proxyOrigin, new URL(testbed().pebble.directoryUrl).origin);
});

test('an injected answer is a proper ACME problem: problem+json, {type, detail, status}, a fresh Replay-Nonce, Retry-After', async () => {
  proxy.inject({
    operation: 'newOrder',
    times: 1,
    response: { status: 429, problem: { type: `${ERROR}rateLimited`, detail: 'too many new orders' }, retryAfterSeconds: 120 },
  });
  const answer = await post(`${new URL(proxy.directoryUrl).origin}/order-plz`, '{}');
  assert.equal(answer.status, 429);
  assert.equal(answer.headers['content-type'], 'application/problem+json');
  assert.equal(answer.headers['retry-after'], '120');
  assert.match(String(answer.headers['replay-nonce']), /^[\w-]{10,}$/);
  assert.deepEqual(JSON.parse(answer.body), { type: `${ERROR}rateLimited`, detail: 'too many new orders', status: 429 });
});

test('rateLimited with Retry-After 120 on newOrder is an AcmeProblemError with type, status 429 and retryAfter about now + 120 s', async () => {
  const hostname = 'www.rate-limited.test';
  testbed().dns.zone.set(hostname, 'A', ['127.0.0.1']);
  proxy.inject({
    operation: 'newOrder',
    response: {
      status: 429,
      problem: { type: `${ERROR}rateLimited`, detail: 'too many certificates already issued' },
      retryAfterSeconds: 120,
    },
  });
  try {
    const before = Date.now();
    const error = await rejection(ca.createOrder(hostname));
    const afterwards = Date.now();
    assert.ok(error instanceof AcmeProblemError, `expected AcmeProblemError, got ${String(error)}`);
    assert.equal(error.problem.type, `${ERROR}rateLimited`);
    assert.equal(error.problem.status, 429);
    assert.equal(error.httpStatus, 429);
    assert.ok(error.retryAfter, 'retryAfter is set');
    const retryAt = Date.parse(error.retryAfter);
    assert.ok(retryAt >= before + 119_000 && retryAt <= afterwards + 121_000, `retryAfter ${error.retryAfter}`);
    assert.ok(afterwards - before < 5_000, 'acme-client did not sleep through Retry-After');
    assert.deepEqual(
      entriesFor(hostname).map(({ operation, status, injected }) => ({ operation, status, injected })),
      [{ operation: 'newOrder', status: 429, injected: true }],
    );
  } finally {
    proxy.clear();
  }
  // Cleared: the same name orders fine.
  await ca.createOrder(hostname);
});

test('serverInternal on finalize for one name is typed, leaves another name alone, and lasts until cleared', async () => {
  const failing = 'www.finalize-fails.test';
  const fine = 'www.finalize-fine.test';
  const [failingOrder, fineOrder] = await Promise.all([validatedOrder(failing), validatedOrder(fine)]);
  proxy.inject({
    operation: 'finalize',
    hostname: failing,
    response: { status: 500, problem: { type: `${ERROR}serverInternal`, detail: 'the signer is unavailable' } },
  });
  try {
    for (let attempt = 1; attempt <= 2; attempt++) {
      const error = await rejection(ca.issue(failingOrder.orderUrl, failing));
      assert.ok(error instanceof AcmeProblemError, `expected AcmeProblemError, got ${String(error)}`);
      assert.equal(error.problem.type, `${ERROR}serverInternal`);
      assert.equal(error.problem.detail, 'the signer is unavailable');
      assert.equal(error.httpStatus, 500);
      assert.equal(error.retryAfter, undefined);
    }
    const chain = await chainOf(fineOrder.orderUrl, fine);
    assert.equal(new X509Certificate(chain[0]!).subjectAltName, `DNS:${fine}`);
  } finally {
    proxy.clear();
  }
  // The failed finalizations never reached Pebble: the order is still ready, and now finalizes.
  const chain = await chainOf(failingOrder.orderUrl, failing);
  assert.equal(new X509Certificate(chain[0]!).subjectAltName, `DNS:${failing}`);
  const finalizes = proxy.log.filter((entry) => entry.operation === 'finalize');
  assert.deepEqual(
    finalizes.filter((entry) => entry.hostname === failing).map((entry) => entry.injected),
    [true, true, false],
  );
  assert.deepEqual(
    finalizes.filter((entry) => entry.hostname === fine).map((entry) => entry.injected),
    [false],
  );
});

test('times: 1 fails the first matching request, then forwards (a challenge, attributed from the authorization)', async () => {
  const hostname = 'www.once.test';
  testbed().dns.zone.set(hostname, 'A', ['127.0.0.1']);
  const order = await ca.createOrder(hostname);
  testbed().answers.set(order.token, await ca.keyAuthorization(order.token));
  proxy.inject({
    operation: 'challenge',
    hostname,
    times: 1,
    response: { status: 503, problem: { type: `${ERROR}serverInternal`, detail: 'try again' }, retryAfterSeconds: 1 },
  });
  const error = await rejection(ca.askToValidate(order.challengeUrl));
  assert.ok(error instanceof AcmeProblemError, `expected AcmeProblemError, got ${String(error)}`);
  assert.equal(error.httpStatus, 503);
  assert.ok(error.retryAfter);
  await ca.askToValidate(order.challengeUrl);
  assert.equal((await settledAuthorization(ca, order.authorizationUrl)).status, 'valid');
  const chain = await chainOf(order.orderUrl, hostname);
  assert.equal(chain.length, 2);
  const challenges = entriesFor(hostname).filter((entry) => entry.operation === 'challenge');
  assert.deepEqual(
    challenges.map(({ status, injected }) => ({ status, injected })),
    [
      { status: 503, injected: true },
      { status: 200, injected: false },
    ],
  );
});

test('rejectedIdentifier on newOrder is typed, for that name only', async () => {
  const blocked = 'www.blocked.test';
  proxy.inject({
    operation: 'newOrder',
    hostname: blocked,
    response: {
      status: 400,
      problem: {
        type: `${ERROR}rejectedIdentifier`,
        detail: `Error creating new order :: Cannot issue for "${blocked}": The ACME server refuses to issue a certificate for this domain name, because it is forbidden by policy`,
      },
    },
  });
  try {
    testbed().dns.zone.set(blocked, 'A', ['127.0.0.1']);
    testbed().dns.zone.set('www.allowed.test', 'A', ['127.0.0.1']);
    const error = await rejection(ca.createOrder(blocked));
    assert.ok(error instanceof AcmeProblemError, `expected AcmeProblemError, got ${String(error)}`);
    assert.equal(error.problem.type, `${ERROR}rejectedIdentifier`);
    assert.equal(error.httpStatus, 400);
    assert.match(error.problem.detail ?? '', /forbidden by policy/);
    await ca.createOrder('www.allowed.test');
  } finally {
    proxy.clear();
  }
});

test('a plain 503 page (not a problem document) surfaces as an error that is not an AcmeProblemError, without retrying', async () => {
  const hostname = 'www.lb-down.test';
  testbed().dns.zone.set(hostname, 'A', ['127.0.0.1']);
  const page = '<html><body><h1>503 Service Unavailable</h1></body></html>';
  proxy.inject({ operation: 'newOrder', hostname, response: { status: 503, body: page, retryAfterSeconds: 30 } });
  try {
    const started = Date.now();
    const error = await rejection(ca.createOrder(hostname));
    assert.ok(error instanceof Error);
    assert.ok(!(error instanceof AcmeProblemError), `got ${String(error)}`);
    // acme-client's apiRequest throws new Error(formatResponseError(response)): the body, JSON.stringify'd,
    // and nothing else (no status, no Retry-After).
    assert.equal(error.message, JSON.stringify(page));
    assert.ok(Date.now() - started < 5_000, 'acme-client did not retry or sleep through Retry-After');
    assert.deepEqual(
      entriesFor(hostname).map(({ status, injected }) => ({ status, injected })),
      [{ status: 503, injected: true }],
    );
  } finally {
    proxy.clear();
  }
});

test("with Pebble's own certificate the proxy is trusted through Pebble's TLS CA alone; stop() closes kept-alive sockets", async () => {
  const second = await startAcmeFaultProxy({
    upstreamDirectoryUrl: testbed().pebble.directoryUrl,
    upstreamTlsCaPem: testbed().pebble.tlsCaPem,
    serverTls: testbed().pebble.serverTls,
  });
  assert.equal(second.tlsCaPem, testbed().pebble.tlsCaPem);
  const agent = new https.Agent({ ca: testbed().pebble.tlsCaPem, keepAlive: true });
  try {
    const answer = await get(second.directoryUrl, agent);
    assert.equal(answer.status, 200);
    const directory = JSON.parse(answer.body) as Record<string, unknown>;
    assert.equal(new URL(String(directory.newOrder)).origin, new URL(second.directoryUrl).origin);
    assert.deepEqual(
      second.log.map(({ operation, status }) => ({ operation, status })),
      [{ operation: 'directory', status: 200 }],
    );
    const stopping = Date.now();
    await second.stop(); // a kept-alive connection is open: stop() must not wait for it
    assert.ok(Date.now() - stopping < 2_000, 'stop() closed the kept-alive connection');
    await assert.rejects(get(second.directoryUrl, new https.Agent({ ca: testbed().pebble.tlsCaPem })), { code: 'ECONNREFUSED' });
  } finally {
    agent.destroy();
    await second.stop();
  }
});

test('probability: each matching request draws once per fault, in order; one that does not fire passes on; times counts what fired', async () => {
  // Draws scripted in the order the proxy makes them.
  const draws = [0.1, 0.9, 0.3, 0.5, 0.7, 0.15, 0.99];
  const scripted = await startAcmeFaultProxy({
    upstreamDirectoryUrl: testbed().pebble.directoryUrl,
    upstreamTlsCaPem: testbed().pebble.tlsCaPem,
    serverTls: testbed().pebble.serverTls,
    random: () => {
      const draw = draws.shift();
      if (draw === undefined) throw new Error('more draws than scripted');
      return draw;
    },
  });
  const agent = new https.Agent({ ca: testbed().pebble.tlsCaPem });
  try {
    assert.throws(() => scripted.inject({ operation: 'directory', probability: 0, response: { status: 500 } }), /probability/);
    assert.throws(() => scripted.inject({ operation: 'directory', probability: 1.5, response: { status: 500 } }), /probability/);
    scripted.inject({ operation: 'directory', probability: 0.2, times: 2, response: { status: 500, body: 'down' } });
    scripted.inject({ operation: 'directory', probability: 0.5, response: { status: 503, body: 'busy' } });
    const statuses: number[] = [];
    for (let request = 0; request < 5; request++) statuses.push((await get(scripted.directoryUrl, agent)).status);
    // 1: the 500 draws 0.1 and fires. 2: the 500 draws 0.9, the 503 0.3: 503. 3: 0.5, then 0.7:
    // forwarded. 4: the 500 draws 0.15 and fires its second and last time. 5: only the 503 is left, 0.99: forwarded.
    assert.deepEqual(statuses, [500, 503, 200, 500, 200]);
    assert.deepEqual(draws, [], 'every draw was used, none more');
    assert.deepEqual(
      scripted.log.map((entry) => entry.injected),
      [true, true, false, true, false],
    );
  } finally {
    agent.destroy();
    await scripted.stop();
  }
});

test('probability 0.5 fails about half the matching requests', async () => {
  const agent = new https.Agent({ ca: proxy.tlsCaPem, keepAlive: true });
  proxy.inject({ operation: 'directory', probability: 0.5, response: { status: 503, body: 'busy' } });
  try {
    let failed = 0;
    for (let request = 0; request < 400; request++) if ((await get(proxy.directoryUrl, agent)).status === 503) failed++;
    // Binomial(400, 0.5): 200 with a standard deviation of 10; outside 140..260 is six deviations away.
    assert.ok(failed > 140 && failed < 260, `${failed} of 400 failed`);
  } finally {
    proxy.clear();
    agent.destroy();
  }
});

function post(url: string, body: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return send(
    url,
    { method: 'POST', headers: { 'content-type': 'application/jose+json' }, agent: new https.Agent({ ca: proxy.tlsCaPem }) },
    body,
  );
}

function get(url: string, agent: https.Agent): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return send(url, { method: 'GET', agent }, undefined);
}

function send(
  url: string,
  options: https.RequestOptions,
  body: string | undefined,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = https.request(url, options, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}
