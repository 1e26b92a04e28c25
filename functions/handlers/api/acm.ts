// /apps/{app}/acm: automated certificates on and off, every domain's status, refresh; /apps: every app, for operators;
// /apps/{app}/tls-policy: what the edge accepts on the app's domains.
import { automationStatus, disableAutomation, enableAutomation, listApps, refresh } from '../../application/apps.ts';
import type { Ports } from '../../application/ports.ts';
import { getTlsPolicy, setTlsPolicy } from '../../application/tls-policy.ts';
import { apiHandler, json } from '../http/api-handler.ts';
import { awsHandler, events, settings, workflows, certificates, statuses } from '../wire.ts';

export const createHandler = (ports: Pick<Ports, 'events' | 'settings' | 'workflows' | 'certificates' | 'statuses'>) =>
  apiHandler({
    'POST /apps/{app}/acm': async ({ app, requestId }) => json(202, await enableAutomation(ports, app, requestId)),
    'DELETE /apps/{app}/acm': async ({ app, requestId }) => json(202, await disableAutomation(ports, app, requestId)),
    'GET /apps/{app}/acm': async ({ app }) => json(200, await automationStatus(ports, app)),
    'POST /apps/{app}/acm/refresh': async ({ app, requestId }) => json(202, await refresh(ports, app, requestId)),
    'GET /apps': async () => json(200, await listApps(ports)),
    'GET /apps/{app}/tls-policy': async ({ app }) => json(200, await getTlsPolicy(ports, app)),
    'PUT /apps/{app}/tls-policy': async ({ app, body, requestId }) => json(200, await setTlsPolicy(ports, app, body.policy, requestId)),
  });

export const handler = awsHandler({ events, settings, workflows, certificates, statuses }, createHandler);
