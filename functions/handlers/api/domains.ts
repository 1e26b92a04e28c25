// /apps/{app}/domains: add and list custom domains, and read a domain's timeline.
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { streamIds } from '../../domain/events.ts';
import { checkHostname } from '../../domain/hostname.ts';
import { dependencies } from '../lib/dependencies.ts';
import { loadDomain } from '../lib/streams.ts';
import { apiHandler, HttpError, json, jsonBody, pathParameter } from '../lib/http.ts';
import { addDomain, dnsTargetFor } from '../lib/issuance.ts';

export const handler = apiHandler({
  'POST /apps/{app}/domains': async (event) => {
    const deps = dependencies();
    const app = pathParameter(event, 'app');
    const { hostname: raw } = jsonBody(event);
    if (typeof raw !== 'string') throw new HttpError(400, 'BAD_REQUEST', 'hostname: is required and must be a string');
    const checked = checkHostname(raw);
    if (!checked.valid) throw new HttpError(400, 'BAD_REQUEST', `hostname: ${checked.rule}`);
    const dnsTarget = dnsTargetFor(app, deps);
    await addDomain(deps, { app, hostname: checked.hostname, dnsTarget }, requestId(event));
    return json(201, { hostname: checked.hostname, dnsTarget });
  },
  'GET /apps/{app}/domains': async (event) => {
    const statuses = await dependencies().statuses.listApp(pathParameter(event, 'app'));
    return json(
      200,
      statuses.map(({ hostname, dnsTarget }) => ({ hostname, dnsTarget })),
    );
  },
  'GET /apps/{app}/domains/{hostname}/events': async (event) => {
    const deps = dependencies();
    const ref = { app: pathParameter(event, 'app'), hostname: pathParameter(event, 'hostname') };
    const state = await loadDomain(deps, ref);
    if (!state.domain) throw new HttpError(404, 'NOT_FOUND', `${ref.hostname} is not a domain of ${ref.app}`);
    const events = await deps.events.read(streamIds.domain(ref.app, ref.hostname));
    return json(
      200,
      events.map(({ version, type, at, data }) => ({ version, type, at, data })),
    );
  },
});

function requestId(event: APIGatewayProxyEvent): string {
  return `request:${event.requestContext?.requestId ?? 'local'}`;
}
