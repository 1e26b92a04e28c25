// AWS Certificate Manager, where the platform's TLS terminators read certificates.
import { X509Certificate } from 'node:crypto';
import {
  ACMClient,
  DeleteCertificateCommand,
  ImportCertificateCommand,
  ResourceInUseException,
  ResourceNotFoundException,
} from '@aws-sdk/client-acm';
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { CertificateInUseError, type CertificateBundle, type CertificateStore } from './certificate-store.ts';

/** The tag an install is found by, should a crash leave it unrecorded. */
const INSTALL_ID_TAG = 'acm-automation:install-id';

export class AcmCertificateStore implements CertificateStore {
  constructor(
    private readonly client: ACMClient,
    /** Finds certificates by tag without listing the account's: ACM itself cannot filter by tag. */
    private readonly tagging: ResourceGroupsTaggingAPIClient,
  ) {}

  async install(bundle: CertificateBundle, replaceArn?: string): Promise<string> {
    const [leaf, ...intermediates] = certificatesOf(bundle.chainPem);
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
              ...(bundle.installId ? [{ Key: INSTALL_ID_TAG, Value: bundle.installId }] : []),
            ],
      }),
    );
    if (!CertificateArn) throw new Error(`ACM returned no ARN for ${bundle.hostname}`);
    return CertificateArn;
  }

  async removeInstalledExcept(installId: string, keep: string | undefined): Promise<string[]> {
    const { ResourceTagMappingList = [] } = await this.tagging.send(
      new GetResourcesCommand({ ResourceTypeFilters: ['acm:certificate'], TagFilters: [{ Key: INSTALL_ID_TAG, Values: [installId] }] }),
    );
    const arns = ResourceTagMappingList.flatMap((mapping) =>
      mapping.ResourceARN && mapping.ResourceARN !== keep ? [mapping.ResourceARN] : [],
    );
    for (const arn of arns) await this.remove(arn);
    return arns;
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

/**
 * The chain's certificates, in order, each as PEM: ImportCertificate takes the leaf apart
 * from the rest. node:crypto parses each, so a damaged block fails here, before ACM.
 */
function certificatesOf(chainPem: string): string[] {
  const blocks = chainPem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block).toString().trim());
}
