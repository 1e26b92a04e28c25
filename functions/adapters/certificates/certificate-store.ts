/** A certificate with its key, on its way to where TLS terminators read it. */
export interface CertificateBundle {
  hostname: string;
  /** Leaf first, then intermediates. */
  chainPem: string;
  privateKeyPem: string;
}

/** The port: ACM in AWS, a folder in the local cloud. */
export interface CertificateStore {
  /** Installs and returns the certificate's ARN; with `replaceArn`, re-imports into it (renewal). */
  install(bundle: CertificateBundle, replaceArn?: string): Promise<string>;
}

export function splitPemChain(chainPem: string): string[] {
  return chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}
