import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkHostname } from '../../functions/domain/hostname.ts';
import { executionName } from '../../functions/domain/issuance.ts';
import { judgeChallengeResponse } from '../../functions/domain/self-check.ts';

test('hostnames are normalised, and refused with the rule they break', () => {
  assert.deepEqual(checkHostname(' WWW.Example.COM. '), { valid: true, hostname: 'www.example.com' });
  assert.deepEqual(checkHostname('*.example.com'), { valid: false, rule: 'wildcard domains are not supported' });
  assert.equal(checkHostname('192.0.2.1').valid, false);
  assert.equal(checkHostname('localhost').valid, false);
  assert.equal(checkHostname('-bad.example.com').valid, false);
  assert.equal(checkHostname(`${'a'.repeat(64)}.example.com`).valid, false);
  assert.deepEqual(checkHostname('bücher.example.com'), { valid: true, hostname: 'xn--bcher-kva.example.com' });
  assert.deepEqual(checkHostname('co.uk'), {
    valid: false,
    rule: 'co.uk is a public suffix: add a name you own under it, like example.co.uk',
  });
  assert.equal(checkHostname('github.io').valid, false, 'private public suffixes count too');
  assert.equal(checkHostname('me.github.io').valid, true);
  assert.equal(checkHostname('[2001:db8::1]').valid, false);
  assert.equal(checkHostname('a b.example.com').valid, false);
  // Longer than a certificate's common name may be, but a valid name: refused at issuance, not here.
  assert.equal(checkHostname(`${'a'.repeat(60)}.example.com`).valid, true);
});

test('a pasted URL part, a percent-escape or an IP address in any spelling is refused, never quietly dropped or decoded', () => {
  const rule = (input: string) => {
    const checked = checkHostname(input);
    return checked.valid ? `accepted as ${checked.hostname}` : checked.rule;
  };
  for (const input of ['a.test/x', 'b.test?x', 'c.test#x', 'https://www.example.com']) assert.match(rule(input), /is not allowed/, input);
  assert.match(rule('%77ww.d.test'), /^percent-encoded characters/);
  assert.match(rule('www.example.com:8080'), /^":" is not allowed: give the domain name without a scheme or port/);
  assert.match(rule('user@www.example.com'), /^"@" is not allowed in a domain name/);
  for (const input of ['127.1', '0x7f.0.0.1', '127.0.0.1', '2130706433', '::1', '1.2.3.0x4', 'www.example.0x10', '１２７．０．０．１']) {
    assert.equal(rule(input), 'must be a domain name, not an IP address', input);
  }
  // Letters of any script still go through IDNA, and full-width forms map to ASCII.
  assert.equal(rule('ＷＷＷ.example.com'), 'accepted as www.example.com');
  assert.equal(rule('www.example.com。'), 'accepted as www.example.com', 'an ideographic full stop is a dot');
  assert.match(rule('www.example.com..'), /^label "" must be/, 'one trailing dot is the root; two are an empty label');
  assert.equal(rule('a_b.example.com'), '"_" is not allowed in a domain name: use letters, digits, hyphens and dots');
});

test('execution names say app, domain and attempt, within 80 allowed characters', () => {
  assert.equal(executionName({ app: 'demo', hostname: 'www.example.com', attempt: 3 }), 'demo_www.example.com_3');
  const long = executionName({ app: 'demo', hostname: `${'a'.repeat(63)}.${'b'.repeat(40)}.com`, attempt: 12 });
  assert.equal(long.length, 80);
  assert.ok(long.endsWith('_12'));
});

test('the self-check tells 404s and path-dropping redirects apart', () => {
  const judge = (status: number, body = '', location?: string) => {
    const verdict = judgeChallengeResponse('www.example.com', 'tok', 'tok.thumb', { status, body, ...(location && { location }) });
    return verdict.passed ? 'passed' : verdict.reason;
  };
  assert.equal(judge(200, 'tok.thumb\n'), 'passed');
  assert.equal(judge(404), 'CDN_NO_CHALLENGE');
  assert.equal(judge(301, '', 'https://www.example.com/'), 'REDIRECT_DROPS_PATH');
  assert.equal(judge(301, '', 'https://www.example.com/.well-known/acme-challenge/tok'), 'passed');
  assert.equal(judge(200, 'some other page'), 'DNS_INCORRECT');
});
