import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { DnsResolver } from '../../functions/adapters/dns/dns-resolver.ts';
import { startDnsServer, type DnsServer } from '../../infra/local/dns-server.ts';

describe('relevant CAA set through the local DNS server', () => {
  let server: DnsServer;
  let dns: DnsResolver;

  before(async () => {
    server = await startDnsServer();
    dns = new DnsResolver(server.address, 500);
  });
  beforeEach(() => server.zone.clear());
  after(() => server.stop());

  const letsEncryptOnly = [{ flags: 0, tag: 'issue', value: 'letsencrypt.org' }];

  it('finds the set at the parent when the name has none', async () => {
    server.zone.set('www.example.com', 'A', ['192.0.2.1']);
    server.zone.setCaa('example.com', letsEncryptOnly);
    assert.deepEqual(await dns.relevantCaaSet('www.example.com'), { owner: 'example.com', records: letsEncryptOnly });
  });

  it('climbs more than one label, up to the TLD', async () => {
    server.zone.setCaa('com', [{ flags: 0, tag: 'issue', value: ';' }]);
    assert.deepEqual(await dns.relevantCaaSet('a.b.example.com.'), { owner: 'com', records: [{ flags: 0, tag: 'issue', value: ';' }] });
  });

  it("prefers the name's own set to its parent's, keeping flags, tag case and every record", async () => {
    const own = [
      { flags: 128, tag: 'Issue', value: 'sectigo.com' },
      { flags: 0, tag: 'issuewild', value: ';' },
      { flags: 0, tag: 'iodef', value: 'mailto:security@example.com' },
    ];
    server.zone.setCaa('www.example.com', own);
    server.zone.setCaa('example.com', letsEncryptOnly);
    assert.deepEqual(await dns.relevantCaaSet('WWW.Example.com'), { owner: 'www.example.com', records: own });
  });

  it("returns the CNAME target's set, owned by the target", async () => {
    server.zone.set('www.example.com', 'CNAME', ['edge.cdn.example']);
    server.zone.setCaa('edge.cdn.example', [{ flags: 0, tag: 'issue', value: 'pki.goog' }]);
    server.zone.setCaa('example.com', letsEncryptOnly);
    assert.deepEqual(await dns.relevantCaaSet('www.example.com'), {
      owner: 'edge.cdn.example',
      aliasedFrom: 'www.example.com',
      records: [{ flags: 0, tag: 'issue', value: 'pki.goog' }],
    });
  });

  it('climbs from the alias, not from its target, when the target has no set', async () => {
    server.zone.set('www.example.com', 'CNAME', ['edge.cdn.example']);
    server.zone.set('edge.cdn.example', 'A', ['192.0.2.1']);
    server.zone.setCaa('cdn.example', [{ flags: 0, tag: 'issue', value: 'pki.goog' }]);
    server.zone.setCaa('example.com', letsEncryptOnly);
    assert.deepEqual(await dns.relevantCaaSet('www.example.com'), { owner: 'example.com', records: letsEncryptOnly });
  });

  it('fails on a SERVFAIL for CAA only, naming where', async () => {
    server.zone.set('www.example.com', 'A', ['192.0.2.1']);
    server.zone.fail('www.example.com', 'servfail', 'CAA');
    server.zone.setCaa('example.com', letsEncryptOnly);
    assert.deepEqual(await dns.relevantCaaSet('www.example.com'), { failure: 'SERVFAIL', name: 'www.example.com' });
  });

  it('fails on a SERVFAIL at a parent above the name', async () => {
    server.zone.fail('example.com', 'servfail', 'CAA');
    assert.deepEqual(await dns.relevantCaaSet('www.example.com'), { failure: 'SERVFAIL', name: 'example.com' });
  });

  it('ignores a failure above the set it found', async () => {
    server.zone.setCaa('www.example.com', letsEncryptOnly);
    server.zone.fail('example.com', 'no-answer', 'CAA');
    const started = Date.now();
    assert.deepEqual(await dns.relevantCaaSet('www.example.com'), { owner: 'www.example.com', records: letsEncryptOnly });
    assert.ok(Date.now() - started < 450, 'it does not wait for the silent parent');
  });

  it('fails with TIMEOUT when the server stays silent', async () => {
    server.zone.fail('www.example.com', 'no-answer', 'CAA');
    assert.deepEqual(await dns.relevantCaaSet('www.example.com'), { failure: 'TIMEOUT', name: 'www.example.com' });
  });

  it('fails, with the code, on an answer node cannot read (an empty CAA value)', async () => {
    server.zone.setCaa('example.com', [{ flags: 0, tag: 'issue', value: '' }]);
    assert.deepEqual(await dns.relevantCaaSet('www.example.com'), { failure: 'SERVFAIL', name: 'example.com', code: 'EBADRESP' });
  });

  it("reads around node's lossy CAA objects: a `critical` tag hides the flags, a `__proto__` tag vanishes", async () => {
    server.zone.setCaa('example.com', [
      { flags: 128, tag: 'critical', value: 'x' },
      { flags: 128, tag: '__proto__', value: 'y' },
    ]);
    assert.deepEqual(await dns.relevantCaaSet('example.com'), {
      owner: 'example.com',
      records: [
        { flags: 0, tag: 'critical', value: 'x' },
        { flags: 128, tag: '', value: '' },
      ],
    });
  });

  it('finds nothing when no name up to the TLD has a set', async () => {
    server.zone.set('www.example.com', 'A', ['192.0.2.1']);
    server.zone.set('example.com', 'TXT', ['v=spf1 -all']);
    assert.equal(await dns.relevantCaaSet('www.example.com'), undefined);
  });

  it("finds the parent's set for a name that does not exist", async () => {
    server.zone.setCaa('example.com', letsEncryptOnly);
    assert.deepEqual(await dns.relevantCaaSet('missing.example.com'), { owner: 'example.com', records: letsEncryptOnly });
  });

  it('looks a wildcard up at its base name', async () => {
    server.zone.setCaa('example.com', letsEncryptOnly);
    assert.deepEqual(await dns.relevantCaaSet('*.example.com'), { owner: 'example.com', records: letsEncryptOnly });
  });
});
