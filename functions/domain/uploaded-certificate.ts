// Is a certificate a user uploads one the service can serve? Pure: the PEM text,
// the trusted roots and the time come in; a verdict goes out. A refusal names the
// field and the rule a person acts on, and never repeats the private key.
// PEM, names and dates are read with @peculiar/x509; keys and signatures are checked with node:crypto.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/** What the API says about a certificate (`../shared/API.md`). Never a private key. */
export interface CertificateInfo {
  name: string;
  /** True for certificates the service issued (ACM), false for uploads. */
  managed: boolean;
  /** The leaf's DNS names (wildcards included), or its subject common name when it has none. */
  commonNames: string[];
  issuer: string;
  subject: string;
  startsAt: string;
  expiresAt: string;
  /** The chain verifies up to a trusted root; an untrusted upload is still accepted. */
  trusted: boolean;
}

export type UploadField = 'certificateChain' | 'privateKey';

export type Inspection =
  | {
      valid: true;
      info: Omit<CertificateInfo, 'name' | 'managed'>;
      leafPem: string;
      /** Normalised: leaf first, then each certificate's issuer; a self-signed root at the end is left out. */
      chainPem: string;
    }
  | { valid: false; field: UploadField; rule: string };

export interface UploadInput {
  certificateChain: string;
  /** Optional here; the API requires it on upload and on replace (ACM re-imports need the key). */
  privateKey?: string;
}

export interface InspectionOptions {
  now: Date;
  /** PEM roots a chain may end at: node's `tls.rootCertificates`, plus Pebble's root locally. */
  trustedRootsPem: readonly string[];
}

/** More than this is not a certificate chain anyone serves; it also bounds the work of ordering. */
export const MAX_CHAIN_CERTIFICATES = 10;

const PEM_BEGIN = /-----BEGIN [A-Z0-9 ]+-----/g;
const PEM_END = /-----END [A-Z0-9 ]+-----/g;
/** The private key PEM labels node reads, and the DER encoding each one is. */
const PRIVATE_KEY_TYPES: Record<string, 'pkcs8' | 'pkcs1' | 'sec1'> = {
  'PRIVATE KEY': 'pkcs8',
  'RSA PRIVATE KEY': 'pkcs1',
  'EC PRIVATE KEY': 'sec1',
};
/** What ACM imports (RSA 1024 to 4096 bits, ECDSA P-256, P-384, P-521): anything else would fail there later. */
const RSA_MODULUS_LENGTHS = new Set([1024, 2048, 3072, 4096]);
const EC_CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);
const CURVE_NAMES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

class Refusal {
  constructor(
    readonly field: UploadField,
    readonly rule: string,
  ) {}
}

export function inspectUpload(input: UploadInput, options: InspectionOptions): Inspection {
  try {
    const chain = readChain(input.certificateChain);
    const leaf = chain[0]!;
    checkValidity(leaf, options.now);
    checkKeyType(leaf);
    const commonNames = namesOf(leaf);
    if (commonNames.length === 0) {
      throw new Refusal(
        'certificateChain',
        'the certificate names no domain: it has neither a DNS subject alternative name nor a common name',
      );
    }
    if (input.privateKey !== undefined) checkKeyMatches(readPrivateKey(input.privateKey), leaf);
    const served = isSelfSigned(chain[chain.length - 1]!) && chain.length > 1 ? chain.slice(0, -1) : chain;
    return {
      valid: true,
      info: {
        commonNames,
        issuer: oneLine(leaf.issuer),
        subject: oneLine(leaf.subject),
        startsAt: viewOf(leaf).notBefore.toISOString(),
        expiresAt: viewOf(leaf).notAfter.toISOString(),
        trusted: chainsToTrustedRoot(chain, trustedRoots(options.trustedRootsPem), options.now),
      },
      leafPem: leaf.toString(),
      chainPem: served.map((certificate) => certificate.toString()).join(''),
    };
  } catch (error) {
    if (error instanceof Refusal) return { valid: false, field: error.field, rule: error.rule };
    throw error;
  }
}

// --- the chain ---------------------------------------------------------------

function readChain(text: string): X509Certificate[] {
  const blocks = pemBlocks('certificateChain', text);
  for (const { label } of blocks) {
    if (label.includes('PRIVATE KEY')) {
      throw new Refusal('certificateChain', 'contains a private key: send the key as privateKey, and only certificates here');
    }
    if (label !== 'CERTIFICATE') {
      throw new Refusal('certificateChain', `contains a "${label}" PEM block: only CERTIFICATE blocks are accepted`);
    }
  }
  if (blocks.length === 0) {
    throw new Refusal(
      'certificateChain',
      `contains no PEM certificate (a block starting -----BEGIN CERTIFICATE-----)${lineBreakHint(text)}`,
    );
  }
  if (blocks.length > MAX_CHAIN_CERTIFICATES) {
    throw new Refusal('certificateChain', `has ${blocks.length} certificates: at most ${MAX_CHAIN_CERTIFICATES} are accepted`);
  }
  const parsed = blocks.map(({ der }, index) => {
    try {
      return new X509Certificate(der);
    } catch {
      throw new Refusal(
        'certificateChain',
        `certificate ${index + 1} of ${blocks.length} could not be read: its PEM body is not a valid X.509 certificate${lineBreakHint(text)}`,
      );
    }
  });
  // The same certificate twice (a full chain pasted after its leaf, say) is one certificate.
  const unique = parsed.filter((certificate, index) => parsed.findIndex((other) => other.raw.equals(certificate.raw)) === index);
  return ordered(unique);
}

/** Leaf first, each certificate signed by the next; a shuffled chain is put in order when only one order fits. */
function ordered(certificates: X509Certificate[]): X509Certificate[] {
  const count = certificates.length;
  const signs = certificates.map((issuer, j) => certificates.map((subject, i) => i !== j && isIssuedBy(subject, issuer)));
  const brokenLink = certificates.findIndex((_, i) => i < count - 1 && !signs[i + 1]![i]);
  if (brokenLink === -1) return certificates;

  const leaves = certificates.map((_, i) => i).filter((i) => !signs[i]!.some(Boolean));
  if (leaves.length === 1) {
    const order = [leaves[0]!];
    while (order.length < count) {
      const current = order[order.length - 1]!;
      const issuers = certificates.map((_, j) => j).filter((j) => !order.includes(j) && signs[j]![current]);
      if (issuers.length !== 1) break;
      order.push(issuers[0]!);
    }
    if (order.length === count) return order.map((i) => certificates[i]!);
  }
  const subject = certificates[brokenLink]!;
  const next = certificates[brokenLink + 1]!;
  throw new Refusal(
    'certificateChain',
    `certificate ${brokenLink + 2} (${oneLine(next.subject)}) did not sign certificate ${brokenLink + 1} (${oneLine(subject.subject)}), ` +
      'and the certificates cannot be put in one order: give the server certificate first, then the certificate that signed it, ' +
      'and so on, without unrelated certificates',
  );
}

function checkValidity(leaf: X509Certificate, now: Date): void {
  const { notBefore: startsAt, notAfter: expiresAt } = viewOf(leaf);
  if (now.getTime() > expiresAt.getTime()) {
    throw new Refusal('certificateChain', `the certificate expired on ${expiresAt.toISOString()}: upload a renewed certificate`);
  }
  if (now.getTime() < startsAt.getTime()) {
    throw new Refusal(
      'certificateChain',
      `the certificate is not valid until ${startsAt.toISOString()}: upload it once it is valid, or check the date it was issued with`,
    );
  }
}

function checkKeyType(leaf: X509Certificate): void {
  const key = leaf.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  const supported =
    (key.asymmetricKeyType === 'rsa' && RSA_MODULUS_LENGTHS.has(details.modulusLength ?? 0)) ||
    (key.asymmetricKeyType === 'ec' && EC_CURVES.has(details.namedCurve ?? ''));
  if (!supported) {
    throw new Refusal(
      'certificateChain',
      `the certificate's key is ${describeKey(key)}: only RSA (1024, 2048, 3072 or 4096 bits) and ECDSA (P-256, P-384, P-521) certificates can be served`,
    );
  }
}

// --- the private key ---------------------------------------------------------

function readPrivateKey(text: string): KeyObject {
  const blocks = pemBlocks('privateKey', text);
  const encrypted = ({ label, headers }: PemBlock) =>
    label === 'ENCRYPTED PRIVATE KEY' || headers.some(({ key, value }) => key === 'Proc-Type' && /ENCRYPTED/.test(value));
  if (blocks.some(encrypted)) {
    throw new Refusal(
      'privateKey',
      'is encrypted with a passphrase: upload it unencrypted (for example the output of: openssl pkey -in key.pem -out plain-key.pem)',
    );
  }
  if (blocks.some(({ label }) => label === 'CERTIFICATE')) {
    throw new Refusal('privateKey', 'contains a certificate: send the private key here, and the certificates as certificateChain');
  }
  const unsupported = blocks.find(({ label }) => !(label in PRIVATE_KEY_TYPES) && label !== 'EC PARAMETERS');
  if (unsupported) {
    throw new Refusal(
      'privateKey',
      `a "${unsupported.label}" PEM block is not a supported private key: give a PKCS#8 ("PRIVATE KEY"), ` +
        'PKCS#1 ("RSA PRIVATE KEY") or SEC1 ("EC PRIVATE KEY") PEM key',
    );
  }
  const keys = blocks.filter(({ label }) => label in PRIVATE_KEY_TYPES);
  if (keys.length === 0) {
    throw new Refusal('privateKey', `contains no PEM private key (a "PRIVATE KEY" PEM block)${lineBreakHint(text)}`);
  }
  if (keys.length > 1) throw new Refusal('privateKey', `contains ${keys.length} private keys: give only the certificate's own key`);
  try {
    const [{ label, der }] = keys as [PemBlock];
    return createPrivateKey({ key: der, format: 'der', type: PRIVATE_KEY_TYPES[label]! });
  } catch {
    throw new Refusal(
      'privateKey',
      `could not be read: its PEM body is not a valid PKCS#8, PKCS#1 or SEC1 private key${lineBreakHint(text)}`,
    );
  }
}

function checkKeyMatches(key: KeyObject, leaf: X509Certificate): void {
  let matches = false;
  try {
    matches = leaf.checkPrivateKey(key);
  } catch {
    matches = false;
  }
  if (matches) return;
  const kinds =
    describeKey(key) === describeKey(leaf.publicKey)
      ? ''
      : ` (the key is ${describeKey(key)}, the certificate's is ${describeKey(leaf.publicKey)})`;
  throw new Refusal('privateKey', `does not match the certificate${kinds}: give the key the certificate was requested with`);
}

function describeKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') return `RSA ${details.modulusLength ?? '?'} bits`;
  if (key.asymmetricKeyType === 'ec') return `ECDSA ${CURVE_NAMES[details.namedCurve ?? ''] ?? details.namedCurve ?? '?'}`;
  return key.asymmetricKeyType ?? 'of an unknown type';
}

// --- trust -------------------------------------------------------------------

const parsedRoots = new WeakMap<readonly string[], X509Certificate[]>();

/** Parsed once per list (node's `tls.rootCertificates` is one frozen array); entries that do not parse are skipped. */
function trustedRoots(pems: readonly string[]): X509Certificate[] {
  const cached = parsedRoots.get(pems);
  if (cached) return cached;
  const roots: X509Certificate[] = [];
  for (const entry of pems) {
    for (const der of x509.PemConverter.decode(entry)) {
      try {
        roots.push(new X509Certificate(Buffer.from(der)));
      } catch {
        // Not ours to refuse: a root the caller cannot parse simply anchors nothing.
      }
    }
  }
  parsedRoots.set(pems, roots);
  return roots;
}

/** The PEM of each trusted root with one of these common names. */
export function trustedRootsNamed(names: readonly string[], trustedRootsPem: readonly string[]): string[] {
  return trustedRoots(trustedRootsPem)
    .filter((root) => names.includes(commonNameOf(root)))
    .map((root) => root.toString());
}

const commonNameOf = (certificate: X509Certificate) => viewOf(certificate).subjectName.getField('CN')[0] ?? certificate.subject;

/** The trusted root a chain (PEM, leaf first) leads to, as PEM and by its common name; undefined when it leads to none. */
export function anchoringRoot(chainPem: string, trustedRootsPem: readonly string[], now: Date): { name: string; pem: string } | undefined {
  const chain = x509.PemConverter.decode(chainPem).map((der) => new X509Certificate(Buffer.from(der)));
  const roots = trustedRoots(trustedRootsPem);
  if (!chainsToTrustedRoot(chain, roots, now)) return undefined;
  const root = roots.find((candidate) =>
    chain.some((certificate) => certificate.raw.equals(candidate.raw) || isIssuedBy(certificate, candidate)),
  );
  return root && { name: commonNameOf(root), pem: root.toString() };
}

/**
 * Walks up from the leaf: trusted once a certificate is itself a trusted root or is
 * signed by one, every certificate below it being in its validity period and every
 * issuer below it a CA. Certificates above that point (a cross-sign) do not matter.
 */
function chainsToTrustedRoot(chain: X509Certificate[], roots: X509Certificate[], now: Date): boolean {
  for (const [index, certificate] of chain.entries()) {
    if (!withinValidity(certificate, now)) return false;
    if (roots.some((root) => root.raw.equals(certificate.raw))) return true;
    if (index > 0 && !certificate.ca) return false;
    if (roots.some((root) => withinValidity(root, now) && isIssuedBy(certificate, root))) return true;
  }
  return false;
}

// --- X.509 and PEM details ----------------------------------------------------

function isIssuedBy(subject: X509Certificate, issuer: X509Certificate): boolean {
  // checkIssued compares names (and key identifiers) only; verify checks the signature.
  try {
    return subject.checkIssued(issuer) && subject.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

function isSelfSigned(certificate: X509Certificate): boolean {
  return isIssuedBy(certificate, certificate);
}

function withinValidity(certificate: X509Certificate, now: Date): boolean {
  const { notBefore, notAfter } = viewOf(certificate);
  return notBefore.getTime() <= now.getTime() && now.getTime() <= notAfter.getTime();
}

interface PemBlock {
  label: string;
  headers: Array<{ key: string; value: string }>;
  der: Buffer;
}

function pemBlocks(field: UploadField, text: string): PemBlock[] {
  const blocks = x509.PemConverter.decodeWithHeaders(text).map(({ type, headers, rawData }) => ({
    label: type,
    headers,
    der: Buffer.from(rawData),
  }));
  // The decoder skips what it cannot read: a block cut off before its END line, or one whose body is not base64.
  const begins = text.match(PEM_BEGIN)?.length ?? 0;
  if (begins !== blocks.length) {
    const rule =
      (text.match(PEM_END)?.length ?? 0) < begins
        ? 'has a PEM block without its matching -----END ...----- line: was it cut off when copying?'
        : `has a PEM block whose body could not be read: it is not base64${lineBreakHint(text)}`;
    throw new Refusal(field, rule);
  }
  return blocks;
}

/** JSON bodies sometimes carry the two characters \n instead of line breaks. */
function lineBreakHint(text: string): string {
  return !text.includes('\n') && text.includes('\\n') ? '; its line breaks arrived as the two characters \\n: send real line breaks' : '';
}

const views = new WeakMap<X509Certificate, x509.X509Certificate>();

/** The same certificate read by @peculiar/x509, for its names and dates; read once. */
function viewOf(certificate: X509Certificate): x509.X509Certificate {
  let view = views.get(certificate);
  if (!view) {
    view = new x509.X509Certificate(certificate.raw);
    views.set(certificate, view);
  }
  return view;
}

/** The leaf's DNS subject alternative names, lower case, in order; its last subject CN when it has none. */
function namesOf(certificate: X509Certificate): string[] {
  const view = viewOf(certificate);
  const alternativeNames = view.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? [];
  const names = [...new Set(alternativeNames.filter(({ type }) => type === 'dns').map(({ value }) => value.trim().toLowerCase()))].filter(
    Boolean,
  );
  if (names.length > 0) return names;
  const commonName = view.subjectName.getField('CN').at(-1)?.trim().toLowerCase();
  return commonName ? [commonName] : [];
}

/** Node prints a name one attribute per line; people read it on one. */
function oneLine(name: string): string {
  return name.split('\n').join(', ');
}
