// /apps/{app}/databases: an app's Postgres databases and their enhanced certificates.
import {
  disableEnhancedCertificates,
  enableEnhancedCertificates,
  enhancedCertificateStatus,
  listDatabases,
  rotateRoot,
  trustBundle,
  type DatabasePorts,
} from '../../application/databases.ts';
import { apiHandler, json, pathParameter } from '../http/api-handler.ts';
import { awsHandler, certificates, databases, events, settings, workflows } from '../wire.ts';
import type { APIGatewayProxyEvent } from 'aws-lambda';

const named = (event: APIGatewayProxyEvent, app: string) => ({ app, database: pathParameter(event, 'database') });
const CERTIFICATES = '/apps/{app}/databases/{database}/enhanced-certificates';

export const createHandler = (ports: DatabasePorts) =>
  apiHandler({
    'GET /apps/{app}/databases': async ({ app }) => json(200, await listDatabases(ports, app)),
    [`POST ${CERTIFICATES}`]: async ({ event, app, requestId }) =>
      json(202, await enableEnhancedCertificates(ports, named(event, app), requestId)),
    [`DELETE ${CERTIFICATES}`]: async ({ event, app, requestId }) =>
      json(202, await disableEnhancedCertificates(ports, named(event, app), requestId)),
    [`GET ${CERTIFICATES}`]: async ({ event, app }) => json(200, await enhancedCertificateStatus(ports, named(event, app))),
    [`GET ${CERTIFICATES}/trust-bundle`]: async ({ event, app }) => ({
      statusCode: 200,
      headers: { 'content-type': 'application/x-pem-file' },
      body: await trustBundle(ports, named(event, app)),
    }),
    [`POST ${CERTIFICATES}/rotate`]: async ({ event, app, body, requestId }) =>
      json(202, await rotateRoot(ports, { ...named(event, app), root: body.root }, requestId)),
  });

export const handler = awsHandler({ events, settings, workflows, certificates, databases }, createHandler);
