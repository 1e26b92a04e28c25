import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mayActOn, signToken, verifyToken } from '../../functions/domain/tokens.ts';

const secret = 'a secret of the service';

test('a signed token verifies to its claims, and scopes apps', () => {
  const token = signToken({ sub: 'owner', apps: ['demo'] }, secret);
  const claims = verifyToken(token, secret);
  assert.deepEqual(claims, { sub: 'owner', apps: ['demo'] });
  assert.equal(mayActOn(claims!, 'demo'), true);
  assert.equal(mayActOn(claims!, 'other'), false);
  assert.equal(mayActOn({ apps: '*' }, 'anything'), true);
});

test('a token signed with another secret, tampered with, or malformed is refused', () => {
  const token = signToken({ sub: 'owner', apps: ['demo'] }, secret);
  assert.equal(verifyToken(token, 'another secret'), undefined);
  const [prefix, , sig] = token.split('.');
  const widened = Buffer.from(JSON.stringify({ sub: 'owner', apps: '*' })).toString('base64url');
  assert.equal(verifyToken(`${prefix}.${widened}.${sig}`, secret), undefined);
  for (const bad of ['', 'acm1', 'acm1..', 'Bearer x', `${token}x`]) assert.equal(verifyToken(bad, secret), undefined, bad);
});
