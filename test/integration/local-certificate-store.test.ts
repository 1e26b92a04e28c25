// The local cloud's certificate store, on a temporary folder: keys encrypted at rest,
// replaced in place, removed, and found by wildcard names.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, webcrypto } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { CERTIFICATE_FILE, LocalCertificateStore, MASTER_KEY_FILE } from '../../functions/adapters/certificates/local-certificate-store.ts';
import type { CertificateBundle } from '../../functions/adapters/certificates/certificate-store.ts';

const ECDSA = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const directories: string[] = [];
after(() => Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true }))));

async function emptyDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'local-certificate-store-'));
  directories.push(directory);
  return join(directory, 'certificates');
}

async function bundle(hostname: string, names?: string[]): Promise<CertificateBundle> {
  const keys = (await webcrypto.subtle.generateKey(ECDSA, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: `CN=${hostname}`,
      keys,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 90 * 24 * 60 * 60_000),
      signingAlgorithm: ECDSA,
      extensions: [new x509.SubjectAlternativeNameExtension((names ?? [hostname]).map((value) => ({ type: 'dns', value })))],
    },
    webcrypto,
  );
  const privateKeyPem = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  return { hostname, ...(names ? { names } : {}), chainPem: certificate.toString('pem'), privateKeyPem };
}

async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

test('installed, then found: the key round-trips', async () => {
  const directory = await emptyDirectory();
  const store = new LocalCertificateStore(directory);
  const installed = await bundle('www.example.com');
  const certificateArn = await store.install(installed);
  assert.match(certificateArn, /^arn:aws:acm:local:000000000000:certificate\/[0-9a-f-]{36}$/);

  const found = await store.findForHostname('WWW.example.com.');
  assert.deepEqual(found, {
    certificateArn,
    hostname: 'www.example.com',
    names: ['www.example.com'],
    chainPem: installed.chainPem,
    privateKeyPem: installed.privateKeyPem,
  });
  // Another store on the same folder (the router's) reads it too.
  assert.equal((await new LocalCertificateStore(directory).findForHostname('www.example.com'))?.privateKeyPem, installed.privateKeyPem);
  assert.equal(await store.findForHostname('other.example.com'), undefined);
});

test('on disk the key is encrypted: neither its PEM nor its base64 body is in any file', async () => {
  const directory = await emptyDirectory();
  const store = new LocalCertificateStore(directory);
  const pkcs8 = await bundle('www.example.com');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  await store.install(pkcs8);
  await store.install({ ...(await bundle('rsa.example.com')), privateKeyPem: rsa });

  const files = await filesUnder(directory);
  assert.equal(files.filter((file) => file.endsWith(CERTIFICATE_FILE)).length, 2);
  assert.ok(
    files.every((file) => !file.endsWith('.tmp')),
    'a draft file was left behind',
  );
  for (const key of [pkcs8.privateKeyPem, rsa]) {
    const body = key.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, '');
    const bodyLines = key.split('\n').filter((line) => line && !line.startsWith('-----'));
    for (const file of files) {
      const content = await readFile(file, 'latin1');
      assert.ok(!content.includes('PRIVATE KEY'), `${file} holds a PEM key`);
      assert.ok(!content.includes(body), `${file} holds the key's base64 body`);
      for (const line of bodyLines) assert.ok(!content.includes(line), `${file} holds a line of the key`);
      assert.ok(!content.includes(Buffer.from(body, 'base64').toString('latin1')), `${file} holds the key's DER`);
    }
  }
  assert.equal(await modeOf(join(directory, MASTER_KEY_FILE)), 0o600);
  assert.equal((await readFile(join(directory, MASTER_KEY_FILE))).length, 32);
  for (const file of files.filter((file) => file.endsWith(CERTIFICATE_FILE))) assert.equal(await modeOf(file), 0o600);
  assert.equal((await store.findForHostname('rsa.example.com'))?.privateKeyPem, rsa);
});

test('concurrent first uses agree on one master key', async () => {
  const directory = await emptyDirectory();
  const bundles = await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map((label) => bundle(`${label}.example.com`)));
  // Separate store objects, as the router and the handlers have.
  await Promise.all(bundles.map((installed) => new LocalCertificateStore(directory).install(installed)));
  const reader = new LocalCertificateStore(directory);
  for (const installed of bundles) {
    assert.equal((await reader.findForHostname(installed.hostname))?.privateKeyPem, installed.privateKeyPem);
  }
  const names = await readdir(directory);
  assert.equal(names.filter((name) => name.startsWith(MASTER_KEY_FILE)).length, 1, `drafts left: ${names.join(', ')}`);
});

test('reinstalling into the same ARN replaces the certificate and its key', async () => {
  const directory = await emptyDirectory();
  const store = new LocalCertificateStore(directory);
  const first = await bundle('www.example.com');
  const renewed = await bundle('www.example.com');
  const certificateArn = await store.install(first);
  assert.equal(await store.install(renewed, certificateArn), certificateArn);

  const found = await store.findForHostname('www.example.com');
  assert.equal(found?.certificateArn, certificateArn);
  assert.equal(found?.chainPem, renewed.chainPem);
  assert.equal(found?.privateKeyPem, renewed.privateKeyPem);
  assert.equal((await readdir(directory)).filter((name) => name !== MASTER_KEY_FILE).length, 1, 'one certificate folder');
});

test('a removed certificate is not found; removing it again is fine', async () => {
  const directory = await emptyDirectory();
  const store = new LocalCertificateStore(directory);
  const kept = await store.install(await bundle('kept.example.com'));
  const removed = await store.install(await bundle('gone.example.com'));
  await store.remove(removed);
  assert.equal(await store.findForHostname('gone.example.com'), undefined);
  await store.remove(removed);
  await new LocalCertificateStore(await emptyDirectory()).remove(removed);
  assert.equal((await store.findForHostname('kept.example.com'))?.certificateArn, kept);
  await assert.rejects(
    store.remove('arn:aws:acm:local:000000000000:certificate/../../etc'),
    /not a certificate ARN of the local certificate store/,
  );
  await assert.rejects(store.remove('arn:aws:acm:us-east-1:123456789012:certificate/abc'), /not a certificate ARN/);
});

test('a wildcard certificate serves one label under its domain; a certificate naming the host itself wins', async () => {
  const directory = await emptyDirectory();
  const store = new LocalCertificateStore(directory);
  const wildcard = await bundle('example.com', ['*.example.com', 'example.com']);
  const wildcardArn = await store.install(wildcard);

  assert.equal((await store.findForHostname('www.example.com'))?.certificateArn, wildcardArn);
  assert.equal((await store.findForHostname('Shop.Example.com'))?.privateKeyPem, wildcard.privateKeyPem);
  assert.equal((await store.findForHostname('example.com'))?.certificateArn, wildcardArn, 'by its second name');
  assert.equal(await store.findForHostname('a.b.example.com'), undefined, 'a wildcard covers one label only');
  assert.equal(await store.findForHostname('wwwexample.com'), undefined);
  assert.equal(await store.findForHostname('www.example.org'), undefined);

  const exactArn = await store.install(await bundle('www.example.com'));
  assert.equal((await store.findForHostname('www.example.com'))?.certificateArn, exactArn);
  assert.equal((await store.findForHostname('shop.example.com'))?.certificateArn, wildcardArn);
  // Even when a wildcard certificate is installed after it.
  const laterWildcardArn = await store.install(await bundle('example.com', ['*.example.com']));
  assert.equal((await store.findForHostname('www.example.com'))?.certificateArn, exactArn);
  assert.equal((await store.findForHostname('shop.example.com'))?.certificateArn, laterWildcardArn, 'the newer of two wildcards');
});

test('without the master key it was stored under, a key does not decrypt', async () => {
  const directory = await emptyDirectory();
  const store = new LocalCertificateStore(directory);
  await store.install(await bundle('www.example.com'));
  await unlink(join(directory, MASTER_KEY_FILE));
  await assert.rejects(store.findForHostname('www.example.com'), /does not decrypt/);
});
