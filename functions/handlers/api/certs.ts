// /apps/{app}/certs: uploads (which turn automation off) and the managed certificates.
import {
  findCertificate,
  listCertificates,
  removeCertificate,
  replaceCertificate,
  uploadCertificate,
} from '../../application/certificates.ts';
import type { Ports } from '../../application/ports.ts';
import { apiHandler, json, pathParameter } from '../http/api-handler.ts';
import { awsHandler, events, settings, workflows, certificates } from '../wire.ts';

export const createHandler = (ports: Pick<Ports, 'events' | 'settings' | 'workflows' | 'certificates'>) =>
  apiHandler({
    'POST /apps/{app}/certs': async ({ app, body, requestId }) => json(201, await uploadCertificate(ports, app, body, requestId)),
    'GET /apps/{app}/certs': async ({ app }) => json(200, await listCertificates(ports, app)),
    'GET /apps/{app}/certs/{name}': async ({ event, app }) => json(200, await findCertificate(ports, app, pathParameter(event, 'name'))),
    'PUT /apps/{app}/certs/{name}': async ({ event, app, body, requestId }) =>
      json(200, await replaceCertificate(ports, app, pathParameter(event, 'name'), body, requestId)),
    'DELETE /apps/{app}/certs/{name}': async ({ event, app, requestId }) => {
      const name = pathParameter(event, 'name');
      await removeCertificate(ports, app, name, requestId);
      return json(202, { app, name, removed: true });
    },
  });

export const handler = awsHandler({ events, settings, workflows, certificates }, createHandler);
