/** A certificate with its key, on its way to where TLS terminators read it. */
export interface CertificateBundle {
  /** The domain it was issued or uploaded for; ACM keeps it as a tag. */
  hostname: string;
  /**
   * Every name it serves: its DNS subject alternative names, wildcards (`*.example.com`)
   * included. Defaults to `[hostname]`. ACM reads the names from the certificate itself.
   */
  names?: string[];
  /** Leaf first, then intermediates. */
  chainPem: string;
  privateKeyPem: string;
  /** Recorded in the log before a managed certificate is installed and kept with it: finds one a crash left unrecorded. */
  installId?: string;
}

/** The port: ACM in AWS, a folder in the local cloud. */
export interface CertificateStore {
  /** Installs and returns the certificate's ARN; with `replaceArn`, re-imports into it (renewal). */
  install(bundle: CertificateBundle, replaceArn?: string): Promise<string>;
  /** Deletes the certificate; removing one that is already gone is fine. One still in use throws CertificateInUseError. */
  remove(certificateArn: string): Promise<void>;
  /** Deletes whatever was installed under `installId` but `keep` (none, or one a crash left unrecorded); returns the ARNs. */
  removeInstalledExcept(installId: string, keep: string | undefined): Promise<string[]>;
}

/** A TLS terminator (a load balancer, a distribution) still uses the certificate: it cannot go yet. */
export class CertificateInUseError extends Error {
  constructor(
    readonly certificateArn: string,
    detail: string,
  ) {
    super(`${certificateArn} is still in use (${detail})`);
    this.name = 'CertificateInUseError';
  }
}
