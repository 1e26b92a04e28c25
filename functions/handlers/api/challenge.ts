// GET /.well-known/acme-challenge/{token}: the HTTP-01 answer, for the edge and the CA. No auth.
import { answerChallenge } from '../../application/issuance.ts';
import type { Ports } from '../../application/ports.ts';
import { apiHandler, pathParameter } from '../http/api-handler.ts';
import { awsHandler, challenges } from '../wire.ts';

export const createHandler = (ports: Pick<Ports, 'challenges'>) =>
  apiHandler({
    'GET /.well-known/acme-challenge/{token}': async ({ event }) => {
      const answer = await answerChallenge(ports, pathParameter(event, 'token'));
      return answer === undefined
        ? { statusCode: 404, headers: { 'content-type': 'text/plain' }, body: 'no such challenge' }
        : { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: answer };
    },
  });

export const handler = awsHandler({ challenges }, createHandler);
