// /apps/{app}/domains: add, list and remove custom domains, and read a domain's timeline.
import { NotFoundError } from '../../domain/errors.ts';
import { streamIds } from '../../domain/events.ts';
import { checkHostname } from '../../domain/hostname.ts';
import { requireApp } from '../lib/app-guard.ts';
import { addDomain, dnsTargetFor, removeDomain } from '../lib/apps.ts';
import { dependencies } from '../lib/dependencies.ts';
import { apiHandler, HttpError, json, pathParameter } from '../lib/http.ts';

export const handler = apiHandler({
  'POST /apps/{app}/domains': async ({ app, body, requestId }) => {
    const deps = dependencies();
    const checked = checkHostname(body.hostname);
    if (!checked.valid) throw new HttpError(400, 'BAD_REQUEST', `hostname: ${checked.rule}`);
    const dnsTarget = dnsTargetFor(app, deps);
    await addDomain(deps, { app, hostname: checked.hostname, dnsTarget }, requestId);
    return json(201, { hostname: checked.hostname, dnsTarget });
  },
  'GET /apps/{app}/domains': async ({ app }) => {
    const deps = dependencies();
    const { domains } = await requireApp(deps, app);
    return json(
      200,
      domains.map((hostname) => ({ hostname, dnsTarget: dnsTargetFor(app, deps) })),
    );
  },
  'DELETE /apps/{app}/domains/{hostname}': async ({ event, app, requestId }) => {
    const deps = dependencies();
    const hostname = requireDomainOf(await requireApp(deps, app), app, pathParameter(event, 'hostname'));
    await removeDomain(deps, { app, hostname }, 'removed', requestId);
    return json(202, { app, hostname, removed: true });
  },
  'GET /apps/{app}/domains/{hostname}/events': async ({ event, app }) => {
    const deps = dependencies();
    const hostname = pathParameter(event, 'hostname');
    const events = await deps.events.read(streamIds.domain(app, hostname));
    if (events.length === 0) throw new NotFoundError(`${hostname} is not a domain of ${app}`);
    return json(
      200,
      events.map(({ version, type, at, data }) => ({ version, type, at, data })),
    );
  },
});

function requireDomainOf(state: { domains: string[] }, app: string, hostname: string): string {
  if (!state.domains.includes(hostname)) throw new NotFoundError(`${hostname} is not a domain of ${app}`);
  return hostname;
}
