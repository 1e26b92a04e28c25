import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACME_ERROR_PREFIX, classifyProblem, type ProblemContext } from '../../functions/domain/acme-problem.ts';

const now = new Date('2026-11-22T10:00:00.000Z');
const context: ProblemContext = { hostname: 'www.example.com', now };
const classify = (type: string, detail = 'detail', extra: Partial<ProblemContext> & { status?: number } = {}) => {
  const { status, ...more } = extra;
  return classifyProblem({ type: `${ACME_ERROR_PREFIX}${type}`, detail, ...(status && { status }) }, { ...context, ...more });
};

test('rateLimited carries the end of the limit: Retry-After, or an hour without one', () => {
  const limited = classify('rateLimited', 'too many certificates', { retryAfter: '2026-11-22T12:00:00.000Z' });
  assert.deepEqual([limited.reason, limited.retryable, limited.rateLimitedUntil], ['RATE_LIMITED', true, '2026-11-22T12:00:00.000Z']);
  assert.match(limited.message, /until 2026-11-22T12:00:00.000Z.*too many certificates/);
  assert.equal(classify('rateLimited').rateLimitedUntil, '2026-11-22T11:00:00.000Z');
});

test('caa is CAA_FORBIDS and not retried; dns is told apart by its detail', () => {
  assert.deepEqual([classify('caa').reason, classify('caa').retryable], ['CAA_FORBIDS', false]);
  assert.equal(classify('dns', 'DNS problem: NXDOMAIN looking up A for www.example.com').reason, 'NXDOMAIN');
  assert.equal(classify('dns', 'DNS problem: SERVFAIL looking up CAA').reason, 'DNS_TIMEOUT');
  assert.equal(classify('dns', 'DNS problem: query timed out looking up A').reason, 'DNS_TIMEOUT');
  assert.equal(classify('dns', 'DNS problem: no valid A records found').reason, 'DNS_UNRESOLVABLE');
});

test('validation failures take their reason from what our own look at the challenge URL saw', () => {
  for (const type of ['connection', 'unauthorized', 'incorrectResponse']) {
    const cdn = classify(type, 'Invalid response from http://www.example.com/.well-known/...: 404', {
      selfCheck: { passed: false, reason: 'CDN_NO_CHALLENGE', message: 'answers 404', retryable: true },
    });
    assert.deepEqual([cdn.reason, cdn.retryable], ['CDN_NO_CHALLENGE', true], type);
    assert.match(cdn.message, /answers 404 \(The certificate authority said: Invalid response/);
    assert.equal(
      classify(type, 'x', { selfCheck: { passed: false, reason: 'REDIRECT_DROPS_PATH', message: 'm', retryable: true } }).reason,
      'REDIRECT_DROPS_PATH',
    );
    // Our look passed, the CA's failed: the CA sees the domain elsewhere.
    assert.equal(classify(type, 'x', { selfCheck: { passed: true } }).reason, 'DNS_INCORRECT');
  }
});

test('rejectedIdentifier is DOMAIN_UNSAFE or DOMAIN_BLOCKLISTED by its detail, never retried', () => {
  const unsafe = classify('rejectedIdentifier', 'The domain is listed by Google Safe Browsing as unsafe');
  assert.deepEqual([unsafe.reason, unsafe.retryable], ['DOMAIN_UNSAFE', false]);
  const blocked = classify('rejectedIdentifier', 'Cannot issue: forbidden by policy');
  assert.deepEqual([blocked.reason, blocked.retryable], ['DOMAIN_BLOCKLISTED', false]);
});

test('every other type is mapped, with a retryable flag; 5xx are retried', () => {
  const retryable = ['badNonce', 'serverInternal', 'orderNotReady', 'accountDoesNotExist', 'tls'];
  const final = [
    'badCSR',
    'badRevocationReason',
    'badSignatureAlgorithm',
    'externalAccountRequired',
    'invalidContact',
    'malformed',
    'unsupportedContact',
    'unsupportedIdentifier',
    'userActionRequired',
    'alreadyRevoked',
    'badPublicKey',
  ];
  for (const type of retryable) assert.equal(classify(type).retryable, true, type);
  for (const type of final) {
    const classified = classify(type, 'the detail');
    assert.equal(classified.retryable, false, type);
    assert.equal(classified.reason, undefined, type);
    assert.match(classified.message, new RegExp(`answered ${type}: the detail`));
  }
  assert.equal(classify('somethingNew', 'x', { status: 503 }).retryable, true);
});

test('a compound problem is classified by its first subproblem', () => {
  const compound = classifyProblem(
    { type: `${ACME_ERROR_PREFIX}compound`, subproblems: [{ type: `${ACME_ERROR_PREFIX}caa`, detail: 'CAA record forbids' }] },
    context,
  );
  assert.equal(compound.reason, 'CAA_FORBIDS');
});

test('a connection problem naming an IPv6 address says IPv6 (AAAA) records are not supported, however the CA words it', () => {
  for (const detail of [
    '2001:db8::1: Fetching http://www.example.com/.well-known/acme-challenge/tok: Connection refused',
    'Get "http://www.example.com/.well-known/acme-challenge/tok": dial tcp [2001:db8::1]:80: connect: network is unreachable',
  ]) {
    const classified = classify('connection', detail, { selfCheck: { passed: true } });
    assert.equal(classified.reason, 'DNS_INCORRECT', detail);
    assert.match(classified.message, /www\.example\.com has AAAA records \(2001:db8::1\)/);
    assert.match(classified.message, /IPv6 \(AAAA\) records are not supported and must be removed/);
  }
  // An IPv4 connection failure keeps the generic words.
  assert.doesNotMatch(classify('connection', '192.0.2.1: Fetching http://x/: Timeout during connect').message, /IPv6/);
});

test("Let's Encrypt names the address in every validation detail: only a connection failure over IPv6 blames AAAA records", () => {
  const notFound = classify(
    'unauthorized',
    '2001:db8::1: Invalid response from http://www.example.com/.well-known/acme-challenge/tok: 404',
    {
      selfCheck: { passed: false, reason: 'CDN_NO_CHALLENGE', message: 'answers 404', retryable: true },
    },
  );
  assert.equal(notFound.reason, 'CDN_NO_CHALLENGE');
  assert.doesNotMatch(notFound.message, /AAAA/);
});
