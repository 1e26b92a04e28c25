// Certificates owners upload (which turns automation off), and the managed ones the
// service issued. A private key comes in, goes to the certificate store, and never
// comes back out: not in answers, events or logs.
import { createHash } from 'node:crypto';
import type { AppState } from '../domain/app-decider.ts';
import { InvalidInputError, NotFoundError } from '../domain/errors.ts';
import { inspectUpload, type CertificateInfo, type UploadInput } from '../domain/uploaded-certificate.ts';
import { changeApp, requireApp, type AppPorts } from './apps.ts';
import { loadApp, loadDomain } from './streams.ts';

export interface Upload extends UploadInput {
  privateKey: string;
}

export async function uploadCertificate(ports: AppPorts, app: string, upload: Upload, correlationId: string): Promise<CertificateInfo> {
  const inspected = inspect(ports, upload);
  const name = certificateName(inspected.info.commonNames[0] ?? 'certificate', inspected.leafPem);
  // The same certificate uploaded again goes into the ARN it already has.
  const existing = (await loadApp(ports, app)).uploads[name];
  const certificateArn = await install(ports, inspected, upload.privateKey, existing?.certificateArn);
  const info: CertificateInfo = { name, managed: false, ...inspected.info };
  try {
    await changeApp(ports, app, { type: 'UploadCertificate', certificate: { certificateArn, info } }, correlationId);
  } catch (error) {
    // Installed but not recorded: take it out again, so nothing is half done.
    await ports.certificates.remove(certificateArn);
    throw error;
  }
  return info;
}

export async function replaceCertificate(
  ports: AppPorts,
  app: string,
  name: string,
  upload: UploadInput,
  correlationId: string,
): Promise<CertificateInfo> {
  const current = (await requireApp(ports, app)).uploads[name];
  if (!current) throw new NotFoundError(`certificate ${name} is not an uploaded certificate of ${app}`);
  if (!upload.privateKey) {
    throw new InvalidInputError(
      'privateKey',
      'is required: the certificate store needs the key to re-import, and the service keeps no copy',
    );
  }
  const inspected = inspect(ports, upload);
  const certificateArn = await install(ports, inspected, upload.privateKey, current.certificateArn);
  const info: CertificateInfo = { name, managed: false, ...inspected.info };
  await changeApp(ports, app, { type: 'ReplaceCertificate', certificate: { certificateArn, info } }, correlationId);
  return info;
}

/** An upload is removed; a managed certificate goes with automation, which takes every managed one. */
export async function removeCertificate(ports: AppPorts, app: string, name: string, correlationId: string): Promise<void> {
  const state = await requireApp(ports, app);
  const upload = state.uploads[name];
  if (upload) {
    await ports.certificates.remove(upload.certificateArn);
    await changeApp(ports, app, { type: 'RemoveUploadedCertificate', name }, correlationId);
  } else {
    await findCertificate(ports, app, name);
    await changeApp(ports, app, { type: 'DisableAcm' }, correlationId);
  }
}

export async function listCertificates(ports: Pick<AppPorts, 'events'>, app: string): Promise<CertificateInfo[]> {
  return certificatesOf(ports, app, await requireApp(ports, app));
}

export async function findCertificate(ports: Pick<AppPorts, 'events'>, app: string, name: string): Promise<CertificateInfo> {
  const found = (await listCertificates(ports, app)).find((certificate) => certificate.name === name);
  if (!found) throw new NotFoundError(`certificate ${name} not found`);
  return found;
}

function inspect(ports: Pick<AppPorts, 'settings'>, upload: UploadInput) {
  const inspected = inspectUpload(upload, { now: new Date(), trustedRootsPem: ports.settings.trustedRootsPem });
  if (!inspected.valid) throw new InvalidInputError(inspected.field, inspected.rule);
  return inspected;
}

function install(
  ports: Pick<AppPorts, 'certificates'>,
  inspected: { info: { commonNames: string[] }; chainPem: string },
  privateKeyPem: string,
  replaceArn?: string,
) {
  const names = inspected.info.commonNames;
  return ports.certificates.install({ hostname: names[0] ?? '', names, chainPem: inspected.chainPem, privateKeyPem }, replaceArn);
}

/** `www-example-com-1a2b3c`: readable, and stable for the same certificate. */
function certificateName(commonName: string, leafPem: string): string {
  const slug = commonName
    .replace(/^\*\./, 'wildcard.')
    .replace(/[^a-z0-9]+/gi, '-')
    .toLowerCase();
  return `${slug}-${createHash('sha256').update(leafPem).digest('hex').slice(0, 6)}`;
}

async function certificatesOf(ports: Pick<AppPorts, 'events'>, app: string, state: AppState): Promise<CertificateInfo[]> {
  const uploaded = Object.values(state.uploads).map((upload) => upload.info);
  const managed: CertificateInfo[] = [];
  for (const hostname of state.domains) {
    const certificate = (await loadDomain(ports, { app, hostname })).certificate;
    if (!certificate) continue;
    managed.push({
      name: hostname,
      managed: true,
      commonNames: [hostname],
      issuer: certificate.issuer,
      subject: `CN=${hostname}`,
      startsAt: certificate.notBefore,
      expiresAt: certificate.notAfter,
      trusted: true,
    });
  }
  return [...managed, ...uploaded];
}
