// FinalizeAndInstall: the certificate's private key is born, used for the CSR and
// installed inside this one step. It never leaves it: not in output, events or logs.
import { X509Certificate } from 'node:crypto';
import acme from 'acme-client';
import { splitPemChain } from '../../adapters/certificates/certificate-store.ts';
import type { IssuedCertificate } from '../../domain/certificate-decider.ts';
import { DomainNotFoundError } from '../../domain/errors.ts';
import { execute, loadDomain, requireOrder } from '../lib/streams.ts';
import { stepHandler } from '../lib/step.ts';

export const handler = stepHandler(async (_event, { input, deps, correlationId }) => {
  const state = await loadDomain(deps, input);
  if (state.removed) throw new DomainNotFoundError(`${input.hostname} was removed`);
  if (state.attempt?.stage === 'installed' && state.certificate) return state.certificate;
  const { orderUrl } = requireOrder(state, input);
  const [privateKey, csr] = await acme.crypto.createCsr(
    { commonName: input.hostname, altNames: [input.hostname] },
    await acme.crypto.createPrivateEcdsaKey('P-256'),
  );
  const chainPem = await (await deps.certificateAuthority()).finalize(orderUrl, csr.toString());
  const certificate = describeLeaf(chainPem);
  // A renewal re-imports into the ARN that is serving, so nothing that references it changes.
  const certificateArn = await deps.certificates.install(
    { hostname: input.hostname, chainPem, privateKeyPem: privateKey.toString() },
    state.certificate?.certificateArn,
  );
  try {
    await execute(deps, input, { type: 'RecordCertificate', attempt: input.attempt, certificate, certificateArn }, correlationId);
  } catch (error) {
    // Not recorded (removed or superseded meanwhile, or the log failed): a first certificate
    // no event points at must not stay installed. A renewal re-imported the serving ARN,
    // which stays with the domain.
    if (!state.certificate) await deps.certificates.remove(certificateArn);
    throw error;
  }
  return { certificateArn, notAfter: certificate.notAfter };
});

function describeLeaf(chainPem: string): IssuedCertificate {
  const [leafPem] = splitPemChain(chainPem);
  if (!leafPem) throw new Error('the CA returned an empty certificate chain');
  const leaf = new X509Certificate(leafPem);
  return {
    serialNumber: leaf.serialNumber,
    issuer: leaf.issuer,
    notBefore: new Date(leaf.validFrom).toISOString(),
    notAfter: new Date(leaf.validTo).toISOString(),
    fingerprint256: leaf.fingerprint256,
  };
}
