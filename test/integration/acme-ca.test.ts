// The ACME adapter against real Pebble: an order through HTTP-01 to a certificate,
// and problem documents surfaced as typed errors that keep type and status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import acme from 'acme-client';
import { AcmeCertificateAuthority } from '../../functions/adapters/acme/acme-ca.ts';
import { FileAccountKey } from '../../functions/adapters/acme/account-key.ts';
import { AcmeProblemError } from '../../functions/adapters/acme/certificate-authority.ts';
import { settledAuthorization, useAcmeTestbed, validatedOrder } from '../support/acme-testbed.ts';

let ca: AcmeCertificateAuthority;
let accountKeyFile: string;
const testbed = useAcmeTestbed(async ({ dataDir, pebble }) => {
  accountKeyFile = join(dataDir, 'account.pem');
  const accountKey = new FileAccountKey(accountKeyFile);
  await accountKey.load();
  ca = new AcmeCertificateAuthority({
    directoryUrl: pebble.directoryUrl,
    accountKey,
    directoryTlsCaPem: pebble.tlsCaPem,
    pollMinMs: 50,
  });
});

test('the account key is created once, readable by its owner only', async () => {
  assert.equal((await stat(accountKeyFile)).mode & 0o777, 0o600);
  assert.equal(await new FileAccountKey(accountKeyFile).load(), await new FileAccountKey(accountKeyFile).load());
});

test('an HTTP-01 order becomes a certificate chain for the name, with the key it was requested with', async () => {
  const { order, authorization } = await validatedOrder(testbed(), ca, 'www.acme-ok.test');
  assert.equal(authorization.status, 'valid');
  const issued = await ca.issue(order.orderUrl, 'www.acme-ok.test');
  const chain = acme.crypto.splitPemChain(issued.chainPem);
  assert.equal(chain.length, 2, 'leaf and intermediate');
  const leaf = new X509Certificate(chain[0]!);
  assert.equal(leaf.subjectAltName, 'DNS:www.acme-ok.test');
  assert.ok(leaf.verify(new X509Certificate(chain[1]!).publicKey));
  assert.ok(leaf.checkPrivateKey(createPrivateKey(issued.privateKeyPem)), 'the key is the one in the CSR');
  assert.deepEqual(
    [issued.certificate.serialNumber, issued.certificate.notAfter],
    [leaf.serialNumber, new Date(leaf.validTo).toISOString()],
  );
});

test('an order finalized before cannot be finalized again with another key', async () => {
  const { order } = await validatedOrder(testbed(), ca, 'www.acme-twice.test');
  await ca.issue(order.orderUrl, 'www.acme-twice.test');
  await assert.rejects(ca.issue(order.orderUrl, 'www.acme-twice.test'), {
    name: 'OrderAlreadyFinalizedError',
    message: /is valid: an earlier run finalized it/,
  });
});

test('a challenge the CA cannot fetch leaves the authorization invalid with its problem', async () => {
  testbed().dns.zone.set('www.acme-unserved.test', 'A', ['127.0.0.1']);
  const order = await ca.createOrder('www.acme-unserved.test');
  await ca.askToValidate(order.challengeUrl);
  const authorization = await settledAuthorization(ca, order.authorizationUrl);
  assert.equal(authorization.status, 'invalid');
  assert.equal(authorization.problem?.type, 'urn:ietf:params:acme:error:unauthorized');
  assert.match(authorization.problem?.detail ?? '', /404/);
});

test("a problem document from the CA is a typed error with its type, detail and status (not acme-client's plain Error)", async () => {
  const { order } = await validatedOrder(testbed(), ca, 'www.acme-csr.test');
  // A CSR for another name than the order's: Pebble refuses it as unauthorized for that name.
  const error = await ca.issue(order.orderUrl, 'other.acme-csr.test').then(
    () => assert.fail('finalize should have failed'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof AcmeProblemError, `expected AcmeProblemError, got ${String(error)}`);
  assert.equal(error.problem.type, 'urn:ietf:params:acme:error:unauthorized');
  assert.equal(error.problem.status, 403);
  assert.equal(error.httpStatus, 403);
  assert.match(error.problem.detail ?? '', /CSR is missing Order domain "www\.acme-csr\.test"/);
});
