// /ca/limits: the CA's rate-limit buckets as the ledger knows them (operator scope).
import { limitsReport } from '../../application/ledger.ts';
import type { Ports } from '../../application/ports.ts';
import { apiHandler, json } from '../http/api-handler.ts';
import { hostnameParameter } from '../http/hostname-parameter.ts';
import { awsHandler, events, settings } from '../wire.ts';

export const createHandler = (ports: Pick<Ports, 'events' | 'settings'>) =>
  apiHandler({
    'GET /ca/limits': async ({ event }) => {
      const named = event.queryStringParameters?.hostname;
      return json(200, await limitsReport(ports, named === undefined ? undefined : hostnameParameter(named)));
    },
  });

export const handler = awsHandler({ events, settings }, createHandler);
