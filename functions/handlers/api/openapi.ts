// GET /openapi.json: the contract, generated from the same schemas that validate requests.
import { apiHandler, json } from '../lib/http.ts';
import { openApiDocument } from './contract.ts';

const document = openApiDocument();

export const handler = apiHandler({
  'GET /openapi.json': async () => json(200, document),
});
