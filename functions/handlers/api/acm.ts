// /apps/{app}/acm: the status of every domain of an app, from the status projection.
import { dependencies } from '../lib/dependencies.ts';
import { apiHandler, json, pathParameter } from '../lib/http.ts';

export const handler = apiHandler({
  'GET /apps/{app}/acm': async (event) => {
    const app = pathParameter(event, 'app');
    const domains = await dependencies().statuses.listApp(app);
    return json(200, { app, enabled: true, domains });
  },
});
