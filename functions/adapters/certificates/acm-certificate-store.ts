// AWS Certificate Manager, where the platform's TLS terminators read certificates.
import {
  ACMClient,
  DeleteCertificateCommand,
  ImportCertificateCommand,
  ResourceInUseException,
  ResourceNotFoundException,
} from '@aws-sdk/client-acm';
import acme from 'acme-client';
import { CertificateInUseError, type CertificateBundle, type CertificateStore } from './certificate-store.ts';

export class AcmCertificateStore implements CertificateStore {
  constructor(private readonly client: ACMClient) {}

  async install(bundle: CertificateBundle, replaceArn?: string): Promise<string> {
    const [leaf, ...intermediates] = acme.crypto.splitPemChain(bundle.chainPem);
    if (!leaf) throw new Error(`the CA returned no certificate for ${bundle.hostname}`);
    const encode = (pem: string) => Buffer.from(pem);
    const { CertificateArn } = await this.client.send(
      new ImportCertificateCommand({
        Certificate: encode(leaf),
        CertificateChain: intermediates.length ? encode(intermediates.join('\n')) : undefined,
        PrivateKey: encode(bundle.privateKeyPem),
        CertificateArn: replaceArn,
        // ACM refuses tags on a re-import.
        Tags: replaceArn
          ? undefined
          : [
              { Key: 'hostname', Value: bundle.hostname },
              { Key: 'managed-by', Value: 'acm-automation' },
            ],
      }),
    );
    if (!CertificateArn) throw new Error(`ACM returned no ARN for ${bundle.hostname}`);
    return CertificateArn;
  }

  async remove(certificateArn: string): Promise<void> {
    try {
      await this.client.send(new DeleteCertificateCommand({ CertificateArn: certificateArn }));
    } catch (error) {
      // Already deleted (or never there): what was asked for is done. A certificate still
      // associated with a load balancer or distribution is not: the caller retries later.
      if (error instanceof ResourceNotFoundException || (error as Error).name === 'ResourceNotFoundException') return;
      if (error instanceof ResourceInUseException || (error as Error).name === 'ResourceInUseException') {
        throw new CertificateInUseError(certificateArn, (error as Error).message);
      }
      throw error;
    }
  }
}
