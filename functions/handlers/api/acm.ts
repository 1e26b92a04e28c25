// /apps/{app}/acm: automated certificates on and off, every domain's status, refresh.
import { requireApp } from '../lib/app-guard.ts';
import { changeApp, requestIssuance } from '../lib/apps.ts';
import { dependencies } from '../lib/dependencies.ts';
import { apiHandler, json } from '../lib/http.ts';

const REFRESHABLE = new Set(['Failing', 'Failed']);

export const handler = apiHandler({
  'POST /apps/{app}/acm': async ({ app, requestId }) => {
    const state = await changeApp(dependencies(), app, { type: 'EnableAcm' }, requestId);
    return json(202, { app, enabled: state.acmEnabled });
  },
  'DELETE /apps/{app}/acm': async ({ app, requestId }) => {
    const deps = dependencies();
    await requireApp(deps, app);
    const state = await changeApp(deps, app, { type: 'DisableAcm' }, requestId);
    return json(202, { app, enabled: state.acmEnabled });
  },
  'GET /apps/{app}/acm': async ({ app }) => {
    const deps = dependencies();
    const state = await requireApp(deps, app);
    // The projection may still hold a domain removed a moment ago: the app's own list decides.
    const domains = (await deps.statuses.listApp(app)).filter((domain) => state.domains.includes(domain.hostname));
    return json(200, { app, enabled: state.acmEnabled, domains });
  },
  'POST /apps/{app}/acm/refresh': async ({ app, requestId }) => {
    const deps = dependencies();
    const state = await requireApp(deps, app);
    // With automation off there is nothing to retry: enabling it starts every domain again.
    if (!state.acmEnabled) return json(202, { app, refreshed: [], executions: [] });
    const failing = (await deps.statuses.listApp(app)).filter(
      (domain) => REFRESHABLE.has(domain.status) && state.domains.includes(domain.hostname),
    );
    // A Failed domain gets a new attempt; a Failing one joins the execution already retrying it.
    const executions = await Promise.all(failing.map(({ hostname }) => requestIssuance(deps, { app, hostname }, 'refresh', requestId)));
    return json(202, { app, refreshed: failing.map((domain) => domain.hostname), executions });
  },
});
