// The API's one way to answer: JSON bodies, and errors as {error: {code, message}}.
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

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

export type RouteHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/** One Lambda serves a resource group: routes are keyed "METHOD /resource/{template}", as API Gateway names them. */
export function apiHandler(routes: Record<string, RouteHandler>) {
  return middy(async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const route = routes[`${event.httpMethod} ${event.resource}`];
    if (!route) return json(404, { error: { code: 'NOT_FOUND', message: `no route ${event.httpMethod} ${event.path}` } });
    try {
      return await route(event);
    } catch (error) {
      if (error instanceof HttpError) return json(error.statusCode, { error: { code: error.code, message: error.message } });
      console.error(JSON.stringify({ route: `${event.httpMethod} ${event.resource}`, error: String(error) }));
      return json(500, { error: { code: 'INTERNAL', message: 'internal error; the request may be retried' } });
    }
  });
}

export function pathParameter(event: APIGatewayProxyEvent, name: string): string {
  const value = event.pathParameters?.[name];
  if (!value) throw new HttpError(400, 'BAD_REQUEST', `${name}: is required in the path`);
  return decodeURIComponent(value);
}

export function jsonBody(event: APIGatewayProxyEvent): Record<string, unknown> {
  try {
    const body: unknown = JSON.parse(event.body ?? '');
    if (body && typeof body === 'object' && !Array.isArray(body)) return body as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new HttpError(400, 'BAD_REQUEST', 'body: must be a JSON object');
}
