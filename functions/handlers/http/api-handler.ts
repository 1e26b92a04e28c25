// The API's one way to answer: routes from the contract, bodies validated by its
// schemas, the token's app scope checked, errors as {error: {code, message}}.
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type * as z from 'zod/mini';
import { appNotFound, ConflictError, InvalidInputError, NotFoundError } from '../../domain/errors.ts';
import { mayActOn } from '../../domain/tokens.ts';
import { logger, observed } from '../observability.ts';
import { API_ROUTES, type ApiRoute } from './contract.ts';

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function json(statusCode: number, body: unknown): APIGatewayProxyResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

export interface ApiRequest {
  event: APIGatewayProxyEvent;
  /** The path's `{app}`, already checked against the token. */
  app: string;
  /** The body, validated by the route's schema. */
  body: any;
  requestId: string;
}

export type RouteHandler = (request: ApiRequest) => Promise<APIGatewayProxyResult>;

/** One Lambda serves a resource group: handlers are keyed "METHOD /resource/{template}", as in the contract. */
export function apiHandler(handlers: Record<string, RouteHandler>) {
  return observed(
    middy(async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
      const key = `${event.httpMethod} ${event.resource}`;
      const route = API_ROUTES.find((candidate) => `${candidate.method} ${candidate.resource}` === key);
      const handler = handlers[key];
      if (!route || !handler) return json(404, { error: { code: 'NOT_FOUND', message: `no route ${event.httpMethod} ${event.path}` } });
      try {
        const app = event.pathParameters?.app ? decoded('app', event.pathParameters.app) : '';
        if (route.auth) checkScope(event, app, route.operator ?? false);
        const body = route.body ? parseBody(event, route.body) : undefined;
        return await handler({ event, app, body, requestId: requestIdOf(event) });
      } catch (error) {
        return errorResponse(error, route);
      }
    }),
    (event) => ({
      correlationId: requestIdOf(event),
      keys: { route: `${event.httpMethod} ${event.resource}`, app: event.pathParameters?.app ?? '' },
    }),
  );
}

const requestIdOf = (event: APIGatewayProxyEvent) => `request:${event.requestContext?.requestId ?? 'unknown'}`;

/** A token for another app learns nothing: the answer is the one for an app that does not exist. */
function checkScope(event: APIGatewayProxyEvent, app: string, operatorOnly: boolean): void {
  const authorizer = event.requestContext?.authorizer as { apps?: string } | null | undefined;
  if (!authorizer?.apps) throw new HttpError(401, 'UNAUTHORIZED', 'a valid bearer token is required');
  if (operatorOnly && authorizer.apps !== '*') throw new HttpError(403, 'FORBIDDEN', 'an operator token (scope *) is required');
  const apps = authorizer.apps === '*' ? '*' : authorizer.apps.split(',');
  if (app && !mayActOn({ apps }, app)) throw appNotFound(app);
}

function parseBody(event: APIGatewayProxyEvent, schema: z.ZodMiniType): unknown {
  let body: unknown;
  try {
    body = JSON.parse(event.body ?? '');
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', 'body: must be a JSON object');
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const [issue] = parsed.error.issues;
  const field = issue?.path.join('.') || 'body';
  const rule = issue?.message.endsWith('received undefined') ? 'is required' : (issue?.message ?? 'is invalid');
  throw new HttpError(400, 'BAD_REQUEST', `${field}: ${rule}`);
}

function errorResponse(error: unknown, route: ApiRoute): APIGatewayProxyResult {
  if (error instanceof HttpError) return json(error.statusCode, { error: { code: error.code, message: error.message } });
  if (error instanceof InvalidInputError) return json(400, { error: { code: 'BAD_REQUEST', message: error.message } });
  if (error instanceof NotFoundError) return json(404, { error: { code: 'NOT_FOUND', message: error.message } });
  if (error instanceof ConflictError) return json(409, { error: { code: 'CONFLICT', message: error.message } });
  // Only the route and the error's name and message: never a request body, which may hold a key.
  logger.error('request failed', {
    route: `${route.method} ${route.resource}`,
    error: error instanceof Error ? `${error.name}: ${error.message}` : 'unknown',
  });
  return json(500, { error: { code: 'INTERNAL', message: 'internal error; the request may be retried' } });
}

export function pathParameter(event: APIGatewayProxyEvent, name: string): string {
  const value = event.pathParameters?.[name];
  if (!value) throw new HttpError(400, 'BAD_REQUEST', `${name}: is required in the path`);
  return decoded(name, value);
}

/** A path segment as written: `%ZZ` or a lone `%` is bad input, not a server error. */
function decoded(name: string, value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', `${name}: is not valid percent-encoding`);
  }
}
