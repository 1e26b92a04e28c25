// Certificates and keys made at test time with @peculiar/x509: no key or certificate
// file is committed.
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

const DAY = 24 * 60 * 60_000;
export const ECDSA = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
export const RSA = { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };

export interface Issued {
  pem: string;
  keyPem: string;
  keys: webcrypto.CryptoKeyPair;
  subject: string;
}

export async function issue(options: {
  subject: string;
  issuer?: Issued;
  ca?: boolean;
  names?: string[];
  notBefore?: Date;
  notAfter?: Date;
  algorithm?: typeof ECDSA | typeof RSA;
}): Promise<Issued> {
  const algorithm = options.algorithm ?? ECDSA;
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const signer = options.issuer;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(options.ca ?? false, undefined, true),
    new x509.KeyUsagesExtension(options.ca ? x509.KeyUsageFlags.keyCertSign : x509.KeyUsageFlags.digitalSignature, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
  ];
  if (options.names) extensions.push(new x509.SubjectAlternativeNameExtension(options.names.map((value) => ({ type: 'dns', value }))));
  if (signer) extensions.push(await x509.AuthorityKeyIdentifierExtension.create(signer.keys.publicKey, false, webcrypto));
  const certificate = await x509.X509CertificateGenerator.create(
    {
      serialNumber: webcrypto.getRandomValues(new Uint8Array(8)).reduce((hex, byte) => hex + byte.toString(16).padStart(2, '0'), '01'),
      subject: options.subject,
      issuer: signer?.subject ?? options.subject,
      publicKey: keys.publicKey,
      signingKey: signer?.keys.privateKey ?? keys.privateKey,
      notBefore: options.notBefore ?? new Date(Date.now() - 365 * DAY),
      notAfter: options.notAfter ?? new Date(Date.now() + 3650 * DAY),
      signingAlgorithm: signer ? signingAlgorithmOf(signer) : algorithm,
      extensions,
    },
    webcrypto,
  );
  const keyPem = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  return { pem: certificate.toString('pem'), keyPem, keys, subject: options.subject };
}

function signingAlgorithmOf(issuer: Issued): typeof ECDSA | typeof RSA {
  return issuer.keys.privateKey.algorithm.name === 'ECDSA' ? ECDSA : RSA;
}
