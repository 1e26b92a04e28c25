// /apps/{app}/certs: certificates owners upload (which turns automation off), and the
// managed ones the service issued. A private key comes in, goes to the store, and
// never comes back out: not in answers, events or logs.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { AppState } from '../../domain/app-decider.ts';
import { NotFoundError } from '../../domain/errors.ts';
import { inspectUpload, type CertificateInfo, type UploadInput } from '../../domain/uploaded-certificate.ts';
import { requireApp } from '../lib/app-guard.ts';
import { changeApp } from '../lib/apps.ts';
import { dependencies, type Dependencies } from '../lib/dependencies.ts';
import { apiHandler, HttpError, json, pathParameter } from '../lib/http.ts';
import { loadApp, loadDomain } from '../lib/streams.ts';

export const handler = apiHandler({
  'POST /apps/{app}/certs': async ({ app, body, requestId }) => {
    const deps = dependencies();
    const inspected = inspect(deps, body);
    const name = certificateName(inspected.info.commonNames[0] ?? 'certificate', inspected.leafPem);
    // The same certificate uploaded again goes into the ARN it already has.
    const existing = (await loadApp(deps, app)).uploads[name];
    const certificateArn = await install(deps, inspected, body.privateKey, existing?.certificateArn);
    const info: CertificateInfo = { name, managed: false, ...inspected.info };
    await recordOrUndo(deps, certificateArn, () =>
      changeApp(deps, app, { type: 'UploadCertificate', certificate: { certificateArn, info } }, requestId),
    );
    return json(201, info);
  },
  'GET /apps/{app}/certs': async ({ app }) => {
    const deps = dependencies();
    return json(200, await listCertificates(deps, app, await requireApp(deps, app)));
  },
  'GET /apps/{app}/certs/{name}': async ({ event, app }) => {
    const deps = dependencies();
    return json(200, await findCertificate(deps, app, pathParameter(event, 'name')));
  },
  'PUT /apps/{app}/certs/{name}': async ({ event, app, body, requestId }) => {
    const deps = dependencies();
    const name = pathParameter(event, 'name');
    const current = (await requireApp(deps, app)).uploads[name];
    if (!current) throw new NotFoundError(`certificate ${name} is not an uploaded certificate of ${app}`);
    if (!body.privateKey) {
      throw new HttpError(
        400,
        'BAD_REQUEST',
        'privateKey: is required: the certificate store needs the key to re-import, and the service keeps no copy',
      );
    }
    const inspected = inspect(deps, body);
    const certificateArn = await install(deps, inspected, body.privateKey, current.certificateArn);
    const info: CertificateInfo = { name, managed: false, ...inspected.info };
    await changeApp(deps, app, { type: 'ReplaceCertificate', certificate: { certificateArn, info } }, requestId);
    return json(200, info);
  },
  'DELETE /apps/{app}/certs/{name}': async ({ event, app, requestId }) => {
    const deps = dependencies();
    const name = pathParameter(event, 'name');
    const state = await requireApp(deps, app);
    const upload = state.uploads[name];
    if (upload) {
      await deps.certificates.remove(upload.certificateArn);
      await changeApp(deps, app, { type: 'RemoveUploadedCertificate', name }, requestId);
    } else {
      // A managed certificate goes with automation: turning it off removes every managed one.
      await findCertificate(deps, app, name);
      await changeApp(deps, app, { type: 'DisableAcm' }, requestId);
    }
    return json(202, { app, name, removed: true });
  },
});

let trustedRoots: string[] | undefined;

function inspect(deps: Dependencies, body: UploadInput) {
  // Read once per container: the roots do not change while it lives.
  trustedRoots ??= [
    ...tls.rootCertificates,
    ...(deps.config.extraTrustedRootsFile ? [readFileSync(deps.config.extraTrustedRootsFile, 'utf8')] : []),
  ];
  const inspected = inspectUpload(body, { now: new Date(), trustedRootsPem: trustedRoots });
  if (!inspected.valid) throw new HttpError(400, 'BAD_REQUEST', `${inspected.field}: ${inspected.rule}`);
  return inspected;
}

function install(
  deps: Dependencies,
  inspected: { info: { commonNames: string[] }; chainPem: string },
  privateKeyPem: string,
  replaceArn?: string,
) {
  const names = inspected.info.commonNames;
  return deps.certificates.install({ hostname: names[0] ?? '', names, chainPem: inspected.chainPem, privateKeyPem }, replaceArn);
}

/** Recording failed after the certificate was installed: take it out again, so nothing is half done. */
async function recordOrUndo(deps: Dependencies, certificateArn: string, record: () => Promise<unknown>): Promise<void> {
  try {
    await record();
  } catch (error) {
    await deps.certificates.remove(certificateArn);
    throw error;
  }
}

/** `www-example-com-1a2b3c`: readable, and stable for the same certificate. */
function certificateName(commonName: string, leafPem: string): string {
  const slug = commonName
    .replace(/^\*\./, 'wildcard.')
    .replace(/[^a-z0-9]+/gi, '-')
    .toLowerCase();
  return `${slug}-${createHash('sha256').update(leafPem).digest('hex').slice(0, 6)}`;
}

async function listCertificates(deps: Dependencies, app: string, state: AppState): Promise<CertificateInfo[]> {
  const uploaded = Object.values(state.uploads).map((upload) => upload.info);
  const managed: CertificateInfo[] = [];
  for (const hostname of state.domains) {
    const certificate = (await loadDomain(deps, { app, hostname })).certificate;
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

async function findCertificate(deps: Dependencies, app: string, name: string): Promise<CertificateInfo> {
  const found = (await listCertificates(deps, app, await requireApp(deps, app))).find((certificate) => certificate.name === name);
  if (!found) throw new NotFoundError(`certificate ${name} not found`);
  return found;
}
