// TLS policies: the table (what each name allows today), the app decider's story of a
// policy change, and the two pieces of the local edge that need no socket: the ClientHello's
// server name and the X-Forwarded-For it passes on.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appTlsPolicy, foldApp } from '../../functions/domain/app-decider.ts';
import type { AppEvent } from '../../functions/domain/events.ts';
import {
  DEFAULT_TLS_POLICY,
  isTlsPolicyName,
  LEGACY_TLS_WARNING,
  TLS_POLICIES,
  TLS_POLICY_NAMES,
  TLS_PROTOCOLS,
  tlsPolicyChangeId,
} from '../../functions/domain/tls-policy.ts';
import { clientHelloBytes, serverNameOf } from '../../infra/local/client-hello.ts';
import { forwardedFor, serverTlsOptions } from '../../infra/local/router.ts';
import { givenApp } from './given.ts';

const TLS13 = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];
const changed = (policy: 'modern' | 'default' | 'legacy', previous: 'modern' | 'default' | 'legacy'): AppEvent => ({
  type: 'TlsPolicyChanged',
  data: { policy, previous },
});

describe('the policies', () => {
  test('modern is TLS 1.3 only, with its three suites', () => {
    assert.deepEqual(TLS_POLICIES.modern.protocols, ['TLSv1.3']);
    assert.deepEqual(TLS_POLICIES.modern.ciphers, TLS13);
    assert.equal(TLS_POLICIES.modern.elbSecurityPolicy, 'ELBSecurityPolicy-TLS13-1-3-PQ-2025-09');
  });

  test('default is TLS 1.2 and 1.3, and its TLS 1.2 ciphers are all AEAD with forward secrecy', () => {
    assert.equal(DEFAULT_TLS_POLICY, 'default');
    assert.deepEqual(TLS_POLICIES.default.protocols, ['TLSv1.2', 'TLSv1.3']);
    const tls12 = TLS_POLICIES.default.ciphers.filter((cipher) => !TLS13.includes(cipher));
    assert.ok(tls12.length > 0);
    for (const cipher of tls12) assert.match(cipher, /^ECDHE-(ECDSA|RSA)-AES(128|256)-GCM-SHA(256|384)$/, cipher);
    assert.equal(TLS_POLICIES.default.elbSecurityPolicy, 'ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09');
  });

  test('legacy is TLS 1.0 to 1.3, offers what old clients speak, and is the only one with a warning', () => {
    assert.deepEqual(TLS_POLICIES.legacy.protocols, ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']);
    assert.ok(TLS_POLICIES.legacy.ciphers.includes('ECDHE-RSA-AES128-SHA'), 'TLS 1.0 clients need a CBC-SHA suite');
    assert.equal(TLS_POLICIES.legacy.elbSecurityPolicy, 'ELBSecurityPolicy-TLS13-1-0-2021-06');
    assert.equal(TLS_POLICIES.legacy.warning, LEGACY_TLS_WARNING);
    assert.match(LEGACY_TLS_WARNING, /RFC 8996/);
    assert.deepEqual(
      TLS_POLICY_NAMES.filter((name) => TLS_POLICIES[name].warning),
      ['legacy'],
    );
  });

  test('every policy allows a contiguous range of versions, every one offers the TLS 1.3 suites, no cipher twice', () => {
    for (const name of TLS_POLICY_NAMES) {
      const { policy, protocols, ciphers } = TLS_POLICIES[name];
      assert.equal(policy, name);
      const first = TLS_PROTOCOLS.indexOf(protocols[0]!);
      assert.deepEqual(protocols, TLS_PROTOCOLS.slice(first, first + protocols.length), name);
      assert.deepEqual(ciphers.slice(0, 3), TLS13, name);
      assert.equal(new Set(ciphers).size, ciphers.length, name);
    }
  });

  test('only the three names are policies', () => {
    for (const name of TLS_POLICY_NAMES) assert.ok(isTlsPolicyName(name));
    for (const other of ['ultra', 'Modern', '', undefined, 3]) assert.ok(!isTlsPolicyName(other), String(other));
  });

  test("as Node's server options: the versions' range, the ciphers in order, security level 0 only where TLS 1.0/1.1 are allowed", () => {
    assert.deepEqual(serverTlsOptions(TLS_POLICIES.modern), {
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      ciphers: TLS13.join(':'),
      honorCipherOrder: true,
    });
    assert.equal(serverTlsOptions(TLS_POLICIES.default).minVersion, 'TLSv1.2');
    assert.doesNotMatch(String(serverTlsOptions(TLS_POLICIES.default).ciphers), /SECLEVEL/);
    const legacy = serverTlsOptions(TLS_POLICIES.legacy);
    assert.deepEqual([legacy.minVersion, legacy.maxVersion], ['TLSv1', 'TLSv1.3']);
    assert.match(String(legacy.ciphers), /:@SECLEVEL=0$/);
  });
});

describe("an app's TLS policy", () => {
  test('an app starts with default, unchanged', () => {
    const state = foldApp([{ type: 'AcmEnabled', data: {} }]);
    assert.equal(state.tlsPolicy, 'default');
    assert.equal(state.tlsPolicyChanged, undefined);
    assert.deepEqual(appTlsPolicy(state), TLS_POLICIES.default);
  });

  test('a change is recorded with what it replaced; the same policy again decides nothing', () => {
    givenApp({ type: 'AcmEnabled', data: {} }).when({ type: 'SetTlsPolicy', policy: 'modern' }).then(changed('modern', 'default'));
    givenApp({ type: 'AcmEnabled', data: {} }, changed('modern', 'default')).when({ type: 'SetTlsPolicy', policy: 'modern' }).then();
    givenApp({ type: 'AcmEnabled', data: {} }).when({ type: 'SetTlsPolicy', policy: 'default' }).then();
  });

  test('the state says which policy, since when, and at which version of the stream', () => {
    const state = foldApp([
      { type: 'AcmEnabled', data: {} },
      { ...changed('legacy', 'default'), at: '2026-11-22T10:00:00.000Z' },
      { type: 'DomainAttached', data: { hostname: 'www.example.com' } },
      { ...changed('modern', 'legacy'), at: '2026-11-22T11:00:00.000Z' },
    ]);
    assert.equal(state.tlsPolicy, 'modern');
    assert.deepEqual(state.tlsPolicyChanged, { at: '2026-11-22T11:00:00.000Z', version: 4 });
    assert.deepEqual(appTlsPolicy(state), { ...TLS_POLICIES.modern, changedAt: '2026-11-22T11:00:00.000Z' });
    assert.equal(tlsPolicyChangeId('shop', 4), 'tls-policy#shop#4');
  });

  test('a deleted app takes no policy; one created again starts from default', () => {
    givenApp({ type: 'AcmEnabled', data: {} }, { type: 'AppDeleted', data: {} })
      .when({ type: 'SetTlsPolicy', policy: 'modern' })
      .thenThrows('NotFoundError', /deleted/);
    const again = foldApp([{ type: 'AcmEnabled', data: {} }, changed('legacy', 'default'), { type: 'AppDeleted', data: {} }]);
    assert.equal(again.tlsPolicy, 'default');
  });
});

/** A ClientHello as a TLS client writes it, with the extensions given (type, body). */
function clientHello(extensions: Array<[number, Buffer]>): Buffer {
  const u16 = (value: number) => Buffer.from([value >> 8, value & 0xff]);
  const extensionBytes = Buffer.concat(extensions.map(([type, body]) => Buffer.concat([u16(type), u16(body.length), body])));
  const body = Buffer.concat([
    Buffer.from([0x03, 0x03]), // legacy_version
    Buffer.alloc(32, 7), // random
    Buffer.from([32]),
    Buffer.alloc(32, 9), // session id
    u16(4),
    Buffer.from([0x13, 0x01, 0xc0, 0x2b]), // cipher suites
    Buffer.from([1, 0]), // compression: null
    u16(extensionBytes.length),
    extensionBytes,
  ]);
  const handshake = Buffer.concat([Buffer.from([0x01, 0, body.length >> 8, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), u16(handshake.length), handshake]);
}
const sni = (name: string) => {
  const entry = Buffer.concat([Buffer.from([0, name.length >> 8, name.length & 0xff]), Buffer.from(name, 'ascii')]);
  return Buffer.concat([Buffer.from([entry.length >> 8, entry.length & 0xff]), entry]);
};

describe("the ClientHello's server name", () => {
  test('is read from the server_name extension, wherever it is among the others, lower case', () => {
    const hello = clientHello([
      [0x000a, Buffer.from([0, 2, 0, 0x1d])], // supported_groups
      [0x0000, sni('WWW.Example.com')],
      [0x002b, Buffer.from([2, 3, 4])], // supported_versions
    ]);
    assert.equal(serverNameOf(hello), 'www.example.com');
  });

  test('is absent without the extension, and in what is not a ClientHello', () => {
    assert.equal(serverNameOf(clientHello([[0x000a, Buffer.from([0, 2, 0, 0x1d])]])), undefined);
    assert.equal(serverNameOf(Buffer.from('GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n')), undefined);
    assert.equal(serverNameOf(Buffer.alloc(0)), undefined);
  });

  test('a cut-off or lying ClientHello is no name, never an exception', () => {
    const hello = clientHello([[0x0000, sni('www.example.com')]]);
    for (let length = 0; length < hello.length; length++) {
      const name = serverNameOf(hello.subarray(0, length));
      assert.equal(name, undefined, `${length} bytes`);
    }
    const lying = Buffer.from(hello);
    lying.writeUInt16BE(0xffff, lying.length - sni('www.example.com').length - 2); // the extension claims 64 KiB
    assert.doesNotThrow(() => serverNameOf(lying));
  });

  test('the router waits for the whole first record, and for nothing on a connection that is not TLS', () => {
    const hello = clientHello([[0x0000, sni('www.example.com')]]);
    assert.equal(clientHelloBytes(Buffer.alloc(0)), undefined);
    assert.equal(clientHelloBytes(hello.subarray(0, 3)), undefined);
    assert.equal(clientHelloBytes(hello.subarray(0, 5)), hello.length);
    assert.equal(clientHelloBytes(Buffer.from('GET /')), 5);
  });
});

describe('X-Forwarded-For, as the edge passes it on', () => {
  test("the caller's address is appended to what the client sent, which is kept as it came", () => {
    assert.equal(forwardedFor(undefined, '127.0.0.1'), '127.0.0.1');
    assert.equal(forwardedFor('203.0.113.7', '127.0.0.1'), '203.0.113.7, 127.0.0.1');
    assert.equal(forwardedFor(['203.0.113.7', '198.51.100.2'], '::ffff:192.0.2.1'), '203.0.113.7, 198.51.100.2, 192.0.2.1');
  });
});
