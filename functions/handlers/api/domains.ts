// /apps/{app}/domains: add, list and remove custom domains, and read a domain's timeline.
import { addDomain, domainTimeline, listDomains, removeAppDomain } from '../../application/apps.ts';
import type { Ports } from '../../application/ports.ts';
import { apiHandler, json, pathParameter } from '../http/api-handler.ts';
import { hostnameParameter } from '../http/hostname-parameter.ts';
import { awsHandler, events, settings, workflows, certificates } from '../wire.ts';

export const createHandler = (ports: Pick<Ports, 'events' | 'settings' | 'workflows' | 'certificates'>) =>
  apiHandler({
    'POST /apps/{app}/domains': async ({ app, body, requestId }) =>
      json(201, await addDomain(ports, { app, hostname: hostnameParameter(body.hostname) }, requestId)),
    'GET /apps/{app}/domains': async ({ app }) => json(200, await listDomains(ports, app)),
    'DELETE /apps/{app}/domains/{hostname}': async ({ event, app, requestId }) => {
      const { hostname } = await removeAppDomain(ports, app, pathParameter(event, 'hostname'), requestId);
      return json(202, { app, hostname, removed: true });
    },
    'GET /apps/{app}/domains/{hostname}/events': async ({ event, app }) =>
      json(200, await domainTimeline(ports, app, pathParameter(event, 'hostname'))),
  });

export const handler = awsHandler({ events, settings, workflows, certificates }, createHandler);
