// /apps/{app}/acm: the status of every domain of an app, and refresh.
import { dependencies } from '../lib/dependencies.ts';
import { apiHandler, json, pathParameter } from '../lib/http.ts';
import { requestIssuance } from '../lib/issuance.ts';

const REFRESHABLE = new Set(['Failing', 'Failed']);

export const handler = apiHandler({
  'GET /apps/{app}/acm': async (event) => {
    const app = pathParameter(event, 'app');
    const domains = await dependencies().statuses.listApp(app);
    return json(200, { app, enabled: true, domains });
  },
  'POST /apps/{app}/acm/refresh': async (event) => {
    const deps = dependencies();
    const app = pathParameter(event, 'app');
    const failing = (await deps.statuses.listApp(app)).filter((domain) => REFRESHABLE.has(domain.status));
    // A Failed domain gets a new attempt; a Failing one joins the execution already retrying it.
    const started = await Promise.all(
      failing.map((domain) =>
        requestIssuance(deps, { app, hostname: domain.hostname }, 'refresh', `refresh:${event.requestContext.requestId}`),
      ),
    );
    return json(202, { app, refreshed: failing.map((domain) => domain.hostname), executions: started });
  },
});
