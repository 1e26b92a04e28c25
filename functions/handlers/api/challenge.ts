// GET /.well-known/acme-challenge/{token}: the HTTP-01 answer, for the edge and the CA. No auth.
import { dependencies } from '../lib/dependencies.ts';
import { apiHandler, pathParameter } from '../lib/http.ts';

export const handler = apiHandler({
  'GET /.well-known/acme-challenge/{token}': async ({ event }) => {
    const answer = await dependencies().challenges.answer(pathParameter(event, 'token'), new Date());
    return answer === undefined
      ? { statusCode: 404, headers: { 'content-type': 'text/plain' }, body: 'no such challenge' }
      : { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: answer };
  },
});
