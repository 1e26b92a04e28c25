import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  caaAnswers,
  checkCaa,
  formatCaaRecord,
  parseIssueValue,
  type CaaRecord,
  type CaaVerdict,
  type OurCa,
} from '../../functions/domain/caa.ts';

const ACCOUNT = 'https://acme-v02.api.letsencrypt.org/acme/acct/123';
const letsEncrypt: OurCa = { issuerDomainNames: ['letsencrypt.org'], accountUri: ACCOUNT, validationMethod: 'http-01' };

const issue = (value: string, flags = 0): CaaRecord => ({ flags, tag: 'issue', value });
const issuewild = (value: string, flags = 0): CaaRecord => ({ flags, tag: 'issuewild', value });

function check(records: CaaRecord[] | undefined, options: { wildcard?: boolean; ca?: OurCa; owner?: string } = {}): CaaVerdict {
  const wildcard = options.wildcard ?? false;
  return checkCaa({
    hostname: wildcard ? '*.example.com' : 'www.example.com',
    relevantSet: records && { owner: options.owner ?? 'example.com', records },
    ca: options.ca ?? letsEncrypt,
    wildcard,
  });
}

function messageOf(verdict: CaaVerdict): string {
  assert.equal(verdict.allowed, false, 'expected issuance to be forbidden');
  return verdict.allowed ? '' : verdict.message;
}

test('no relevant set, or an empty one, allows issuance', () => {
  assert.deepEqual(check(undefined), { allowed: true });
  assert.deepEqual(check([]), { allowed: true });
});

test('a set with no issue or issuewild property allows issuance', () => {
  assert.deepEqual(check([{ flags: 0, tag: 'iodef', value: 'mailto:security@example.com' }]), { allowed: true });
  assert.deepEqual(check([{ flags: 128, tag: 'iodef', value: 'mailto:security@example.com' }]), { allowed: true });
});

test('an issue record for our CA allows issuance, among others', () => {
  assert.deepEqual(check([issue('letsencrypt.org')]), { allowed: true });
  assert.deepEqual(check([issue('sectigo.com'), issue('letsencrypt.org'), issue('pki.goog')]), { allowed: true });
});

test('issue records for other CAs forbid, naming the owner, the records and what to add', () => {
  const message = messageOf(check([issue('sectigo.com'), issue('pki.goog')]));
  assert.match(message, /CAA records at example\.com /);
  assert.match(message, /www\.example\.com/);
  assert.ok(message.includes('example.com. CAA 0 issue "sectigo.com" lets only sectigo.com issue'), message);
  assert.ok(message.includes('example.com. CAA 0 issue "pki.goog"'), message);
  assert.ok(message.endsWith('Add a CAA record: example.com. CAA 0 issue "letsencrypt.org"'), message);
});

test('the advice names where the records live when they come through an alias', () => {
  const verdict = checkCaa({
    hostname: 'www.example.com',
    relevantSet: { owner: 'caa.provider.net', aliasedFrom: 'www.example.com', records: [issue('sectigo.com')] },
    ca: letsEncrypt,
    wildcard: false,
  });
  const message = messageOf(verdict);
  assert.match(message, /at caa\.provider\.net \(www\.example\.com is an alias of it\)/);
  assert.ok(message.endsWith('Add a CAA record: caa.provider.net. CAA 0 issue "letsencrypt.org"'), message);
});

test('";" (an empty issuer) lets no CA issue; an empty value too', () => {
  assert.match(messageOf(check([issue(';')])), /CAA 0 issue ";" lets no CA issue/);
  assert.match(messageOf(check([issue('')])), /lets no CA issue/);
  assert.match(messageOf(check([issue('  ;  accounturi=' + ACCOUNT)])), /lets no CA issue/);
  // Any matching record still allows: the set is a list of permissions.
  assert.deepEqual(check([issue(';'), issue('letsencrypt.org')]), { allowed: true });
});

test('for a name that is not a wildcard only issue records count', () => {
  assert.deepEqual(check([issuewild(';')]), { allowed: true });
  assert.deepEqual(check([issue('letsencrypt.org'), issuewild('sectigo.com')]), { allowed: true });
  assert.match(messageOf(check([issue('sectigo.com'), issuewild('letsencrypt.org')])), /lets only sectigo\.com issue/);
});

test('for a wildcard, issuewild records replace issue records when present', () => {
  assert.deepEqual(check([issue('sectigo.com'), issuewild('letsencrypt.org')], { wildcard: true }), { allowed: true });
  const message = messageOf(check([issue('letsencrypt.org'), issuewild('sectigo.com')], { wildcard: true }));
  assert.match(message, /\*\.example\.com/);
  assert.ok(message.includes('CAA 0 issuewild "sectigo.com"'), message);
  assert.ok(!message.includes('CAA 0 issue "letsencrypt.org"'), 'issue records are not the ones that apply');
  assert.ok(message.endsWith('Add a CAA record: example.com. CAA 0 issuewild "letsencrypt.org"'), message);
  assert.match(messageOf(check([issue('letsencrypt.org'), issuewild(';')], { wildcard: true })), /lets no CA issue/);
});

test('for a wildcard without issuewild records, issue records count', () => {
  assert.deepEqual(check([issue('letsencrypt.org')], { wildcard: true }), { allowed: true });
  const message = messageOf(check([issue('sectigo.com')], { wildcard: true }));
  assert.ok(message.endsWith('Add a CAA record: example.com. CAA 0 issue "letsencrypt.org"'), message);
});

test('a critical record with a tag we do not understand forbids, even beside a permission', () => {
  const message = messageOf(check([issue('letsencrypt.org'), { flags: 128, tag: 'tbs', value: 'Unknown' }]));
  assert.ok(message.includes('example.com. CAA 128 tbs "Unknown" is marked critical'), message);
  assert.ok(message.includes('clear the critical flag: example.com. CAA 0 tbs "Unknown"'), message);
  // Let's Encrypt reads bit 1 as critical too, and so do we.
  assert.equal(check([issue('letsencrypt.org'), { flags: 1, tag: 'contactemail', value: 'a@example.com' }]).allowed, false);
  // Known tags may be critical.
  assert.deepEqual(check([issue('letsencrypt.org', 128), issuewild(';', 128)]), { allowed: true });
  assert.deepEqual(check([{ flags: 128, tag: 'IoDeF', value: 'mailto:a@example.com' }]), { allowed: true });
});

test('a non-critical record with a tag we do not understand is ignored', () => {
  assert.deepEqual(check([issue('letsencrypt.org'), { flags: 0, tag: 'tbs', value: 'Unknown' }]), { allowed: true });
  assert.deepEqual(check([{ flags: 0, tag: 'contactemail', value: 'a@example.com' }]), { allowed: true });
  // Other reserved bits are not the critical flag.
  assert.deepEqual(check([issue('letsencrypt.org'), { flags: 64, tag: 'tbs', value: 'x' }]), { allowed: true });
});

test('accounturi must be our account', () => {
  assert.deepEqual(check([issue(`letsencrypt.org; accounturi=${ACCOUNT}`)]), { allowed: true });
  const other = 'https://acme-v02.api.letsencrypt.org/acme/acct/999';
  const message = messageOf(check([issue(`letsencrypt.org; accounturi=${other}`)]));
  assert.ok(message.includes(`is for another ACME account (${other}; ours is ${ACCOUNT})`), message);
  // The advice keeps the owner's account binding, with ours.
  assert.ok(message.endsWith(`Add a CAA record: example.com. CAA 0 issue "letsencrypt.org; accounturi=${ACCOUNT}"`), message);
  // Without our account URL (the pre-flight runs without the account key) the CA judges the binding.
  assert.deepEqual(check([issue(`letsencrypt.org; accounturi=${ACCOUNT}`)], { ca: { ...letsEncrypt, accountUri: undefined } }), {
    allowed: true,
  });
});

test('validationmethods must include http-01', () => {
  assert.deepEqual(check([issue('letsencrypt.org; validationmethods=http-01')]), { allowed: true });
  assert.deepEqual(check([issue('letsencrypt.org; validationmethods=dns-01,http-01,tls-alpn-01')]), { allowed: true });
  assert.deepEqual(check([issue(`letsencrypt.org; validationmethods=http-01; accounturi=${ACCOUNT}`)]), { allowed: true });
  const message = messageOf(check([issue('letsencrypt.org; validationmethods=dns-01,tls-alpn-01')]));
  assert.ok(message.includes('allows only dns-01, tls-alpn-01 validation, and we validate with http-01'), message);
  // The advice keeps the owner's method restriction, with ours.
  assert.ok(message.endsWith('Add a CAA record: example.com. CAA 0 issue "letsencrypt.org; validationmethods=http-01"'), message);
  assert.equal(check([issue('letsencrypt.org; validationmethods=')]).allowed, false);
  assert.equal(check([issue(`letsencrypt.org; validationmethods=http-01; accounturi=https://other/acct/1`)]).allowed, false);
});

test('unknown parameters are ignored', () => {
  assert.deepEqual(check([issue('letsencrypt.org; policy=ev; cansignhttpexchanges=yes')]), { allowed: true });
});

test('domain names and tags compare without case; whitespace around parts is tolerated', () => {
  assert.deepEqual(check([issue('LetsEncrypt.ORG')]), { allowed: true });
  assert.deepEqual(check([{ flags: 0, tag: 'ISSUE', value: 'letsencrypt.org' }]), { allowed: true });
  assert.deepEqual(check([{ flags: 0, tag: 'Issue', value: 'sectigo.com' }]).allowed, false);
  assert.deepEqual(check([issue(' \tletsencrypt.org \t')]), { allowed: true });
  assert.deepEqual(check([issue('letsencrypt.org;')]), { allowed: true });
  assert.deepEqual(check([issue(`letsencrypt.org ;  AccountURI = ${ACCOUNT} ;\tvalidationmethods=http-01 `)]), { allowed: true });
  assert.deepEqual(
    check([issue('letsencrypt.org'), { flags: 0, tag: 'IssueWild', value: 'sectigo.com' }], { wildcard: true }).allowed,
    false,
  );
  assert.deepEqual(check([issue('sectigo.com')], { ca: { ...letsEncrypt, issuerDomainNames: ['LetsEncrypt.org'] } }).allowed, false);
  assert.deepEqual(check([issue('letsencrypt.org')], { ca: { ...letsEncrypt, issuerDomainNames: ['LetsEncrypt.org'] } }), {
    allowed: true,
  });
});

test('a malformed value does not match, and says why, without throwing', () => {
  const malformed = [
    'lets encrypt.org',
    'https://letsencrypt.org',
    'letsencrypt.org.',
    '-letsencrypt.org',
    'letsencrypt.org; accounturi',
    'letsencrypt.org; accounturi=a b',
    `letsencrypt.org; accounturi=${ACCOUNT};`,
    'letsencrypt.org;; validationmethods=http-01',
    'letsencrypt.org; bad_tag=1',
    'letsencrypt.org; validationmethods=http-01, dns-01',
    'letsencrypt.org; validationmethods=http-01,,dns-01',
    `letsencrypt.org; accounturi=${ACCOUNT}; accounturi=${ACCOUNT}`,
    'letsencrypt.org; validationmethods=http-01;validationmethods=dns-01',
    'lëtsencrypt.org',
    'letsencrypt.org\u0000',
  ];
  for (const value of malformed) {
    const message = messageOf(check([issue(value)]));
    assert.match(message, /cannot be read \(/, value);
    assert.match(message, /Add a CAA record: example\.com\. CAA 0 issue "letsencrypt\.org(; validationmethods=http-01)?"$/, message);
  }
  // A malformed record beside a good one does not spoil it.
  assert.deepEqual(check([issue('lets encrypt.org'), issue('letsencrypt.org')]), { allowed: true });
});

test('parseIssueValue follows RFC 8659 §4.2', () => {
  assert.deepEqual(parseIssueValue(';'), { ok: true, issuerDomainName: undefined, parameters: new Map() });
  assert.deepEqual(parseIssueValue(' Ca.Example ; a=1;b = x=y '), {
    ok: true,
    issuerDomainName: 'ca.example',
    parameters: new Map([
      ['a', '1'],
      ['b', 'x=y'],
    ]),
  });
  assert.deepEqual(parseIssueValue('ca.example; a='), { ok: true, issuerDomainName: 'ca.example', parameters: new Map([['a', '']]) });
  assert.equal(parseIssueValue('ca..example').ok, false);
});

test('records print as zone file lines and as event answers', () => {
  assert.equal(formatCaaRecord('example.com.', issue('say "hi"\\')), 'example.com. CAA 0 issue "say \\"hi\\"\\\\"');
  assert.deepEqual(caaAnswers({ owner: 'example.com', records: [issue('letsencrypt.org', 128)] }), [
    { name: 'example.com', type: 'CAA', data: '128 issue "letsencrypt.org"' },
  ]);
  assert.deepEqual(caaAnswers(undefined), []);
});
