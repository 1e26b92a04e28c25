// Uploaded certificates: every fixture is generated here, at test time; no key or
// certificate file is committed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { issue, RSA, type Issued } from '../support/certificates.ts';
import { inspectUpload, type Inspection, type InspectionOptions } from '../../functions/domain/uploaded-certificate.ts';

const NOW = new Date('2030-06-01T12:00:00Z');
const DAY = 24 * 60 * 60_000;
const at = (days: number) => new Date(NOW.getTime() + days * DAY);
const root = await issue({ subject: 'CN=Upload Test Root, O=Upload Tests', ca: true, notBefore: at(-3650), notAfter: at(3650) });
const intermediate = await issue({ subject: 'CN=Upload Test Intermediate, O=Upload Tests', ca: true, issuer: root });
const leaf = await issue({
  subject: 'CN=www.example.com',
  issuer: intermediate,
  names: ['www.example.com', 'Example.COM'],
  notBefore: new Date('2030-05-01T00:00:00Z'),
  notAfter: new Date('2030-07-30T00:00:00Z'),
});
const expired = await issue({
  subject: 'CN=old.example.com',
  issuer: intermediate,
  names: ['old.example.com'],
  notBefore: at(-100),
  notAfter: at(-10),
});
const notYetValid = await issue({
  subject: 'CN=soon.example.com',
  issuer: intermediate,
  names: ['soon.example.com'],
  notBefore: at(10),
  notAfter: at(100),
});
const wildcard = await issue({ subject: 'CN=*.example.com', issuer: intermediate, names: ['*.example.com'] });
const commonNameOnly = await issue({ subject: 'CN=legacy.example.com, O=Legacy', issuer: intermediate });
const rsaLeaf = await issue({ subject: 'CN=rsa.example.com', issuer: intermediate, names: ['rsa.example.com'], algorithm: RSA });
const otherRoot = await issue({ subject: 'CN=Some Other Root', ca: true });

const TRUSTED = { now: NOW, trustedRootsPem: [...rootCertificates, root.pem] };
const chainOf = (...certificates: Issued[]) => certificates.map((certificate) => certificate.pem).join('\n');

/** The base64 body of a PEM, which must never come back in an answer. */
function bodyOf(pem: string): string {
  return pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, '');
}

function inspect(input: { certificateChain: string; privateKey?: string }, options: InspectionOptions = TRUSTED): Inspection {
  const result = inspectUpload(input, options);
  if (input.privateKey) {
    const text = JSON.stringify(result);
    for (const line of input.privateKey.split(/\r?\n/).filter((line) => line.length > 20 && !line.startsWith('-----'))) {
      assert.ok(!text.includes(line), 'the answer repeats the private key');
    }
  }
  return result;
}

function refused(result: Inspection, field: 'certificateChain' | 'privateKey', rule: RegExp): void {
  assert.equal(result.valid, false, 'expected a refusal');
  if (result.valid) return;
  assert.equal(result.field, field);
  assert.match(result.rule, rule);
}

function accepted(result: Inspection): Extract<Inspection, { valid: true }> {
  if (!result.valid) assert.fail(`refused: ${result.field}: ${result.rule}`);
  return result;
}

const sameCertificates = (chainPem: string, expected: Issued[]) =>
  assert.deepEqual(
    chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!.map((pem) => new X509Certificate(pem).fingerprint256),
    expected.map((certificate) => new X509Certificate(certificate.pem).fingerprint256),
  );

describe('a valid upload', () => {
  test('is described: names, issuer, subject, validity, trust', () => {
    const result = accepted(inspect({ certificateChain: chainOf(leaf, intermediate), privateKey: leaf.keyPem }));
    assert.deepEqual(result.info, {
      commonNames: ['www.example.com', 'example.com'],
      issuer: 'CN=Upload Test Intermediate, O=Upload Tests',
      subject: 'CN=www.example.com',
      startsAt: '2030-05-01T00:00:00.000Z',
      expiresAt: '2030-07-30T00:00:00.000Z',
      trusted: true,
    });
    sameCertificates(result.leafPem, [leaf]);
    sameCertificates(result.chainPem, [leaf, intermediate]);
    assert.ok(!JSON.stringify(result).includes('PRIVATE KEY'));
  });

  test('without a private key (a PUT that keeps the stored key)', () => {
    const result = accepted(inspect({ certificateChain: chainOf(leaf, intermediate) }));
    assert.equal(result.info.trusted, true);
  });

  test('a wildcard name is allowed', () => {
    const result = accepted(inspect({ certificateChain: chainOf(wildcard, intermediate), privateKey: wildcard.keyPem }));
    assert.deepEqual(result.info.commonNames, ['*.example.com']);
  });

  test('without DNS names, the subject common name is the name', () => {
    const result = accepted(inspect({ certificateChain: chainOf(commonNameOnly, intermediate), privateKey: commonNameOnly.keyPem }));
    assert.deepEqual(result.info.commonNames, ['legacy.example.com']);
    assert.equal(result.info.subject, 'CN=legacy.example.com, O=Legacy');
  });

  test('PKCS#1 RSA and SEC1 EC keys are read too', () => {
    const pkcs1 = createPrivateKey(rsaLeaf.keyPem).export({ type: 'pkcs1', format: 'pem' }).toString();
    assert.match(pkcs1, /^-----BEGIN RSA /);
    accepted(inspect({ certificateChain: chainOf(rsaLeaf, intermediate), privateKey: pkcs1 }));
    const sec1 = createPrivateKey(leaf.keyPem).export({ type: 'sec1', format: 'pem' }).toString();
    assert.match(sec1, /^-----BEGIN EC /);
    accepted(inspect({ certificateChain: chainOf(leaf, intermediate), privateKey: sec1 }));
  });

  test('Windows line breaks and text around the blocks are fine', () => {
    const chain = `subject=CN = www.example.com\r\n${chainOf(leaf, intermediate).replace(/\n/g, '\r\n')}\r\n`;
    accepted(inspect({ certificateChain: chain, privateKey: leaf.keyPem.replace(/\n/g, '\r\n') }));
  });

  test('the same certificate twice counts once', () => {
    const result = accepted(inspect({ certificateChain: chainOf(leaf, intermediate, leaf, intermediate), privateKey: leaf.keyPem }));
    sameCertificates(result.chainPem, [leaf, intermediate]);
  });
});

describe('trust', () => {
  test('a chain up to a given root is trusted; the same chain without that root is accepted, untrusted', () => {
    const input = { certificateChain: chainOf(leaf, intermediate), privateKey: leaf.keyPem };
    assert.equal(accepted(inspect(input, TRUSTED)).info.trusted, true);
    assert.equal(accepted(inspect(input, { now: NOW, trustedRootsPem: rootCertificates })).info.trusted, false);
    assert.equal(accepted(inspect(input, { now: NOW, trustedRootsPem: [otherRoot.pem] })).info.trusted, false);
    assert.equal(accepted(inspect(input, { now: NOW, trustedRootsPem: [] })).info.trusted, false);
  });

  test('a missing intermediate: accepted, not trusted', () => {
    const result = accepted(inspect({ certificateChain: chainOf(leaf), privateKey: leaf.keyPem }));
    assert.equal(result.info.trusted, false);
    sameCertificates(result.chainPem, [leaf]);
  });

  test('the root may be included: it is trusted, and left out of the chain served', () => {
    const result = accepted(inspect({ certificateChain: chainOf(leaf, intermediate, root), privateKey: leaf.keyPem }));
    assert.equal(result.info.trusted, true);
    sameCertificates(result.chainPem, [leaf, intermediate]);
  });

  test('a self-signed certificate is accepted, untrusted', async () => {
    const selfSigned = await issue({ subject: 'CN=self.example.com', names: ['self.example.com'] });
    const result = accepted(inspect({ certificateChain: selfSigned.pem, privateKey: selfSigned.keyPem }));
    assert.equal(result.info.trusted, false);
    assert.equal(result.info.issuer, 'CN=self.example.com');
    sameCertificates(result.chainPem, [selfSigned]);
  });

  test('an expired intermediate makes the chain untrusted', async () => {
    const oldIntermediate = await issue({ subject: 'CN=Old Intermediate', ca: true, issuer: root, notBefore: at(-400), notAfter: at(-1) });
    const young = await issue({
      subject: 'CN=young.example.com',
      issuer: oldIntermediate,
      names: ['young.example.com'],
      notBefore: at(-2),
    });
    const result = accepted(inspect({ certificateChain: chainOf(young, oldIntermediate), privateKey: young.keyPem }));
    assert.equal(result.info.trusted, false);
  });
});

describe('chain order', () => {
  test('a reversed chain is put in order: leaf first, then its issuer', () => {
    const result = accepted(inspect({ certificateChain: chainOf(intermediate, leaf), privateKey: leaf.keyPem }));
    sameCertificates(result.chainPem, [leaf, intermediate]);
    sameCertificates(result.leafPem, [leaf]);
    assert.deepEqual(result.info.commonNames, ['www.example.com', 'example.com']);
    assert.equal(result.info.trusted, true);
  });

  test('any shuffle with one possible order is put in order', () => {
    const result = accepted(inspect({ certificateChain: chainOf(root, leaf, intermediate), privateKey: leaf.keyPem }));
    sameCertificates(result.chainPem, [leaf, intermediate]);
  });

  test('an unrelated certificate is refused, naming the broken link', () => {
    refused(
      inspect({ certificateChain: chainOf(leaf, otherRoot), privateKey: leaf.keyPem }),
      'certificateChain',
      /certificate 2 \(CN=Some Other Root\) did not sign certificate 1 \(CN=www\.example\.com\)/,
    );
    refused(inspect({ certificateChain: chainOf(leaf, wildcard, intermediate) }), 'certificateChain', /cannot be put in one order/);
  });
});

describe('refusals name the field and the rule', () => {
  test('the key does not match the certificate', () => {
    refused(
      inspect({ certificateChain: chainOf(leaf, intermediate), privateKey: wildcard.keyPem }),
      'privateKey',
      /^does not match the certificate/,
    );
    refused(
      inspect({ certificateChain: chainOf(leaf, intermediate), privateKey: rsaLeaf.keyPem }),
      'privateKey',
      /does not match the certificate \(the key is RSA 2048 bits, the certificate's is ECDSA P-256\)/,
    );
  });

  test('garbage in the chain', () => {
    refused(inspect({ certificateChain: '', privateKey: leaf.keyPem }), 'certificateChain', /contains no PEM certificate/);
    refused(inspect({ certificateChain: 'not a certificate at all' }), 'certificateChain', /contains no PEM certificate/);
    const garbage = '-----BEGIN CERTIFICATE-----\nTm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n';
    refused(inspect({ certificateChain: chainOf(leaf) + '\n' + garbage }), 'certificateChain', /certificate 2 of 2 could not be read/);
    refused(inspect({ certificateChain: leaf.pem.slice(0, 200) }), 'certificateChain', /without its matching -----END/);
    const damaged = leaf.pem.replace(/\n[A-Za-z0-9+/]{8}/, '\n!!!!!!!!');
    refused(inspect({ certificateChain: damaged }), 'certificateChain', /has a PEM block whose body could not be read: it is not base64/);
    refused(
      inspect({ certificateChain: leaf.pem.replace(/\n/g, '\\n') }),
      'certificateChain',
      /line breaks arrived as the two characters \\n/,
    );
    refused(inspect({ certificateChain: '-----BEGIN PKCS7-----\nAAAA\n-----END PKCS7-----' }), 'certificateChain', /"PKCS7" PEM block/);
  });

  test('a private key pasted into the chain is refused, and not repeated', () => {
    const result = inspectUpload({ certificateChain: chainOf(leaf) + '\n' + leaf.keyPem }, TRUSTED);
    refused(result, 'certificateChain', /contains a private key: send the key as privateKey/);
    assert.ok(!JSON.stringify(result).includes(bodyOf(leaf.keyPem).slice(0, 40)));
  });

  test('garbage in the key', () => {
    const certificateChain = chainOf(leaf, intermediate);
    refused(inspect({ certificateChain, privateKey: '' }), 'privateKey', /contains no PEM private key/);
    refused(inspect({ certificateChain, privateKey: 'hunter2' }), 'privateKey', /contains no PEM private key/);
    // A well-formed PEM block whose body is "Not a key at all, not even close".
    const label = ['PRIVATE', 'KEY'].join(' ');
    const garbage = `-----BEGIN ${label}-----\nTm90IGEga2V5IGF0IGFsbCwgbm90IGV2ZW4gY2xvc2U=\n-----END ${label}-----\n`;
    refused(
      inspect({ certificateChain, privateKey: garbage }),
      'privateKey',
      /could not be read: its PEM body is not a valid PKCS#8, PKCS#1 or SEC1/,
    );
    refused(inspect({ certificateChain, privateKey: leaf.pem }), 'privateKey', /contains a certificate/);
    refused(inspect({ certificateChain, privateKey: leaf.keyPem + wildcard.keyPem }), 'privateKey', /contains 2 private keys/);
    refused(inspect({ certificateChain, privateKey: leaf.keyPem.slice(0, 100) }), 'privateKey', /without its matching -----END/);
  });

  test('an encrypted key is refused with what to do', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }).toString();
    const pkcs1 = privateKey.export({ type: 'pkcs1', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }).toString();
    assert.match(pkcs8, /^-----BEGIN ENCRYPTED /);
    assert.match(pkcs1, /Proc-Type: 4,ENCRYPTED/);
    for (const encrypted of [pkcs8, pkcs1]) {
      refused(
        inspect({ certificateChain: chainOf(rsaLeaf, intermediate), privateKey: encrypted }),
        'privateKey',
        /is encrypted with a passphrase: upload it unencrypted/,
      );
    }
  });

  test('an expired certificate', () => {
    refused(
      inspect({ certificateChain: chainOf(expired, intermediate), privateKey: expired.keyPem }),
      'certificateChain',
      new RegExp(`the certificate expired on ${at(-10).toISOString().replace(/\./g, '\\.')}: upload a renewed certificate`),
    );
  });

  test('a certificate not valid yet', () => {
    refused(inspect({ certificateChain: chainOf(notYetValid, intermediate) }), 'certificateChain', /the certificate is not valid until /);
    // The same certificate is fine once its time has come.
    accepted(inspect({ certificateChain: chainOf(notYetValid, intermediate) }, { ...TRUSTED, now: at(11) }));
  });

  test('a certificate without any name', async () => {
    const nameless = await issue({ subject: 'O=No Name', issuer: intermediate });
    refused(inspect({ certificateChain: chainOf(nameless, intermediate) }), 'certificateChain', /names no domain/);
  });

  test('more certificates than a chain has', () => {
    refused(inspect({ certificateChain: Array(11).fill(leaf.pem).join('\n') }), 'certificateChain', /has 11 certificates: at most 10/);
  });
});
