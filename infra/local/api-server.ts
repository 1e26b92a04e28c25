// API Gateway for the local cloud: the same routes table, the same handler files,
// requests turned into the proxy events Lambda receives.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { API_HANDLERS, API_ROUTES } from '../api-routes.ts';

type ApiHandler = (event: APIGatewayProxyEvent, context: object) => Promise<APIGatewayProxyResult>;

export interface ApiRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export type ApiDispatcher = (request: ApiRequest) => Promise<APIGatewayProxyResult>;

/** Matches a request to its route and runs the route's handler. */
export async function loadApiDispatcher(root: string): Promise<ApiDispatcher> {
  const handlers = Object.fromEntries(
    await Promise.all(
      Object.entries(API_HANDLERS).map(async ([name, file]) => [
        name,
        ((await import(`${root}/${file}`)) as { handler: ApiHandler }).handler,
      ]),
    ),
  ) as Record<keyof typeof API_HANDLERS, ApiHandler>;
  const routes = API_ROUTES.map((route) => ({ ...route, pattern: templatePattern(route.resource) }));

  return async ({ method, path, headers, body }) => {
    const [pathname = '/', query = ''] = path.split('?');
    for (const route of routes) {
      const match = route.method === method ? route.pattern.exec(pathname) : null;
      if (!match) continue;
      const event = {
        httpMethod: method,
        resource: route.resource,
        path: pathname,
        pathParameters: match.groups ?? null,
        queryStringParameters: query ? Object.fromEntries(new URLSearchParams(query)) : null,
        headers,
        body: body ?? null,
        isBase64Encoded: false,
        requestContext: { requestId: randomUUID() },
      } as unknown as APIGatewayProxyEvent;
      return handlers[route.handler](event, {});
    }
    return { statusCode: 404, body: JSON.stringify({ error: { code: 'NOT_FOUND', message: `no route ${method} ${pathname}` } }) };
  };
}

function templatePattern(resource: string): RegExp {
  const escaped = resource.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, '(?<$1>[^/]+)');
  return new RegExp(`^${escaped}$`);
}

export interface LocalServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function listen(server: http.Server | import('node:tls').Server, port: number, scheme: string): Promise<LocalServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `${scheme}://127.0.0.1:${actual}`,
    port: actual,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        if ('closeAllConnections' in server) server.closeAllConnections();
      }),
  };
}

export function startApiServer(dispatch: ApiDispatcher, port: number): Promise<LocalServer> {
  const server = http.createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const result = await dispatch({
      method: request.method ?? 'GET',
      path: request.url ?? '/',
      headers: Object.fromEntries(Object.entries(request.headers).map(([key, value]) => [key, String(value)])),
      body: chunks.length ? Buffer.concat(chunks).toString('utf8') : undefined,
    }).catch((error: unknown) => ({
      statusCode: 500,
      headers: {},
      body: JSON.stringify({ error: { code: 'INTERNAL', message: String(error) } }),
    }));
    response.writeHead(result.statusCode, { 'content-type': 'application/json', ...(result.headers as Record<string, string>) });
    response.end(result.body);
  });
  return listen(server, port, 'http');
}
