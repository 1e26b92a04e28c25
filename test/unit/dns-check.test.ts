import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPointing, type Resolution } from '../../functions/domain/dns-check.ts';

const rules = { hostname: 'www.example.com', dnsTarget: 'demo.edge.example.net', legacyTargetSuffixes: ['legacy.example.net'] };
const target: Resolution = { name: 'demo.edge.example.net', cnameChain: [], ipv4: ['192.0.2.10'], ipv6: [] };
const host = (resolution: Partial<Extract<Resolution, { cnameChain: string[] }>>): Resolution => ({
  name: 'www.example.com',
  cnameChain: [],
  ipv4: [],
  ipv6: [],
  ...resolution,
});

test('a CNAME chain that reaches the app target is verified, with the answers kept', () => {
  const verdict = checkPointing(rules, host({ cnameChain: ['alias.example.com', 'demo.edge.example.net'], ipv4: ['192.0.2.10'] }), target);
  assert.equal(verdict.verified, true);
  assert.deepEqual(verdict.answers, [
    { name: 'www.example.com', type: 'CNAME', data: 'alias.example.com' },
    { name: 'alias.example.com', type: 'CNAME', data: 'demo.edge.example.net' },
    { name: 'demo.edge.example.net', type: 'A', data: '192.0.2.10' },
  ]);
});

test("an apex flattened to the target's addresses is verified", () => {
  assert.equal(
    checkPointing({ ...rules, hostname: 'example.com' }, host({ name: 'example.com', ipv4: ['192.0.2.10'] }), target).verified,
    true,
  );
});

test('pointing elsewhere is DNS_INCORRECT and names what it points at', () => {
  const verdict = checkPointing(rules, host({ ipv4: ['198.51.100.7'] }), target);
  assert.equal(verdict.verified, false);
  assert.ok(!verdict.verified && verdict.reason === 'DNS_INCORRECT' && verdict.message.includes('198.51.100.7'));
});

test('lookup failures map to reasons a person can act on', () => {
  const reasonOf = (resolution: Resolution) => {
    const verdict = checkPointing(rules, resolution, target);
    return verdict.verified ? 'verified' : verdict.reason;
  };
  const failing = (failure: 'NXDOMAIN' | 'NODATA' | 'SERVFAIL' | 'TIMEOUT'): Resolution => ({ name: 'www.example.com', failure });
  assert.deepEqual([failing('NXDOMAIN'), failing('NODATA'), failing('SERVFAIL'), failing('TIMEOUT'), host({})].map(reasonOf), [
    'NXDOMAIN',
    'DNS_UNRESOLVABLE',
    'DNS_TIMEOUT',
    'DNS_TIMEOUT',
    'DNS_UNRESOLVABLE',
  ]);
});

test('a chain ending at a legacy target says to update the CNAME', () => {
  // Even where the legacy edge shares the target's addresses.
  const verdict = checkPointing(rules, host({ cnameChain: ['demo.legacy.example.net'], ipv4: ['192.0.2.10'] }), target);
  assert.ok(!verdict.verified && verdict.reason === 'CNAME_TARGET_INCORRECT' && verdict.message.includes('demo.edge.example.net'));
});

test('an AAAA record the target does not have is DNS_INCORRECT, said so', () => {
  const verdict = checkPointing(
    rules,
    host({ cnameChain: ['demo.edge.example.net'], ipv4: ['192.0.2.10'], ipv6: ['2001:db8::1'] }),
    target,
  );
  assert.ok(!verdict.verified && verdict.reason === 'DNS_INCORRECT' && verdict.message.includes('AAAA records (2001:db8::1)'));
  const apex = checkPointing(rules, host({ ipv4: ['192.0.2.10'], ipv6: ['2001:db8::2'] }), {
    ...target,
    ipv6: ['2001:db8::2'],
  } as Resolution);
  assert.equal(apex.verified, true);
});
