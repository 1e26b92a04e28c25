import assert from 'node:assert/strict';
import { promises as dns } from 'node:dns';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Packet, TCPClient } from 'dns2';
import { startDnsServer, type DnsServer } from '../../infra/local/dns-server.ts';

describe('local DNS server', () => {
  let server: DnsServer;
  let resolver: dns.Resolver;

  before(async () => {
    server = await startDnsServer();
    // One short try, so a server that stays silent fails the query quickly.
    resolver = new dns.Resolver({ timeout: 300, tries: 1 });
    resolver.setServers([server.address]);
  });
  beforeEach(() => server.zone.clear());
  after(() => server.stop());

  it('listens on 127.0.0.1', () => {
    assert.equal(server.address, `127.0.0.1:${server.port}`);
  });

  it('answers A records, ignoring case and a trailing dot', async () => {
    server.zone.set('App.Example.COM.', 'A', ['192.0.2.1', '192.0.2.2']);
    assert.deepEqual((await resolver.resolve4('app.example.com')).sort(), ['192.0.2.1', '192.0.2.2']);
  });

  it('answers AAAA records', async () => {
    server.zone.set('app.example.com', 'AAAA', ['2001:db8::1']);
    assert.deepEqual(await resolver.resolve6('app.example.com'), ['2001:db8::1']);
  });

  it('answers TXT records', async () => {
    server.zone.set('_acme-challenge.app.example.com', 'TXT', ['token-a', 'token-b']);
    const records = await resolver.resolveTxt('_acme-challenge.app.example.com');
    assert.deepEqual(records.sort(), [['token-a'], ['token-b']]);
  });

  it('replaces the records of one type only', async () => {
    server.zone.set('app.example.com', 'A', ['192.0.2.1']);
    server.zone.set('app.example.com', 'TXT', ['kept']);
    server.zone.set('app.example.com', 'A', ['192.0.2.9']);
    assert.deepEqual(await resolver.resolve4('app.example.com'), ['192.0.2.9']);
    assert.deepEqual(await resolver.resolveTxt('app.example.com'), [['kept']]);
  });

  it('follows a two-hop CNAME chain', async () => {
    server.zone.set('www.shop.example', 'CNAME', ['edge.cdn.example']);
    server.zone.set('edge.cdn.example', 'CNAME', ['lb.cdn.example.']);
    server.zone.set('lb.cdn.example', 'A', ['192.0.2.10']);
    assert.deepEqual(await resolver.resolve4('www.shop.example'), ['192.0.2.10']);
    assert.deepEqual(await resolver.resolveCname('www.shop.example'), ['edge.cdn.example']);
  });

  it('answers names below a wildcard that have no records of their own', async () => {
    server.zone.set('*.edge.example', 'A', ['192.0.2.20']);
    server.zone.set('own.edge.example', 'A', ['192.0.2.21']);
    assert.deepEqual(await resolver.resolve4('a.edge.example'), ['192.0.2.20']);
    assert.deepEqual(await resolver.resolve4('b.c.edge.example'), ['192.0.2.20']);
    assert.deepEqual(await resolver.resolve4('own.edge.example'), ['192.0.2.21']);
    await assert.rejects(resolver.resolve4('edge.example'), { code: 'ENOTFOUND' });
  });

  it('answers NXDOMAIN for a name with no records', async () => {
    await assert.rejects(resolver.resolve4('missing.example'), { code: 'ENOTFOUND' });
  });

  it('answers an empty NOERROR for a name that lacks the type', async () => {
    server.zone.set('app.example.com', 'A', ['192.0.2.1']);
    await assert.rejects(resolver.resolve6('app.example.com'), { code: 'ENODATA' });
  });

  it('forgets a removed name', async () => {
    server.zone.set('app.example.com', 'A', ['192.0.2.1']);
    server.zone.remove('app.example.com.');
    await assert.rejects(resolver.resolve4('app.example.com'), { code: 'ENOTFOUND' });
  });

  it('fails with NXDOMAIN, SERVFAIL or silence on demand', async () => {
    for (const name of ['gone.example', 'broken.example', 'silent.example']) {
      server.zone.set(name, 'A', ['192.0.2.1']);
    }
    server.zone.fail('gone.example', 'nxdomain');
    server.zone.fail('broken.example', 'servfail');
    server.zone.fail('silent.example', 'no-answer');
    await assert.rejects(resolver.resolve4('gone.example'), { code: 'ENOTFOUND' });
    await assert.rejects(resolver.resolve4('broken.example'), { code: 'ESERVFAIL' });
    await assert.rejects(resolver.resolve4('silent.example'), { code: 'ETIMEOUT' });
  });

  it('fails only the chosen query type', async () => {
    server.zone.set('app.example.com', 'A', ['192.0.2.1']);
    server.zone.fail('app.example.com', 'servfail', 'CAA');
    assert.deepEqual(await resolver.resolve4('app.example.com'), ['192.0.2.1']);
    await assert.rejects(resolver.resolveCaa('app.example.com'), { code: 'ESERVFAIL' });
  });

  it('answers CAA records with their flags', async () => {
    server.zone.setCaa('example.org', [
      { flags: 128, tag: 'issue', value: 'letsencrypt.org' },
      { flags: 0, tag: 'iodef', value: 'mailto:security@example.org' },
    ]);
    assert.deepEqual(await resolver.resolveCaa('example.org'), [
      { critical: 128, issue: 'letsencrypt.org' },
      { critical: 0, iodef: 'mailto:security@example.org' },
    ]);
  });

  it('serves TCP on the same port, with the CNAME chain ahead of the records', async () => {
    server.zone.set('www.shop.example', 'CNAME', ['lb.cdn.example']);
    server.zone.set('lb.cdn.example', 'A', ['192.0.2.10']);
    const queryOverTcp = TCPClient({ dns: '127.0.0.1', port: server.port });
    const response = await queryOverTcp('www.shop.example', 'A');
    assert.equal(response.header.rcode, Packet.RCODE.NOERROR);
    assert.deepEqual(
      response.answers.map(({ name, type, domain, address }) => ({ name, type, domain, address })),
      [
        { name: 'www.shop.example', type: Packet.TYPE.CNAME, domain: 'lb.cdn.example', address: undefined },
        { name: 'lb.cdn.example', type: Packet.TYPE.A, domain: undefined, address: '192.0.2.10' },
      ],
    );
  });
});
