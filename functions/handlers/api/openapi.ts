// GET /openapi.json: the contract, generated from the same schemas that validate requests.
import { apiHandler, json } from '../http/api-handler.ts';
import { openApiDocument } from '../http/contract.ts';

const document = openApiDocument();

export const createHandler = () => apiHandler({ 'GET /openapi.json': async () => json(200, document) });
export const handler = createHandler();
