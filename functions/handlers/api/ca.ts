// /ca/limits: the CA's rate-limit buckets as the ledger knows them (operator scope).
import { limitsReport } from '../../application/ledger.ts';
import type { Ports } from '../../application/ports.ts';
import { InvalidInputError } from '../../domain/errors.ts';
import { checkHostname } from '../../domain/hostname.ts';
import { apiHandler, json } from '../http/api-handler.ts';
import { awsHandler, events, settings } from '../wire.ts';

export const createHandler = (ports: Pick<Ports, 'events' | 'settings'>) =>
  apiHandler({
    'GET /ca/limits': async ({ event }) => {
      const named = event.queryStringParameters?.hostname;
      const checked = named === undefined ? undefined : checkHostname(named);
      if (checked && !checked.valid) throw new InvalidInputError('hostname', checked.rule);
      return json(200, await limitsReport(ports, checked?.hostname));
    },
  });

export const handler = awsHandler({ events, settings }, createHandler);
