// API Gateway for the local cloud: the same routes table, the same handler files,
// requests turned into the proxy events Lambda receives.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { APIGatewayAuthorizerResult, APIGatewayProxyEvent, APIGatewayProxyResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { API_HANDLERS, API_ROUTES, AUTHORIZER_HANDLER } from '../api-routes.ts';

type ApiHandler = (event: APIGatewayProxyEvent, context: object) => Promise<APIGatewayProxyResult>;

export interface ApiRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export type ApiDispatcher = (request: ApiRequest) => Promise<APIGatewayProxyResult>;

/** Per bearer token, like API Gateway's throttling: a bucket of `burst` refilled at `ratePerSecond`. */
export interface Throttle {
  ratePerSecond: number;
  burst: number;
}

const DEFAULT_THROTTLE: Throttle = { ratePerSecond: 50, burst: 100 };

/**
 * Matches a request to its route, runs the authorizer first where the route needs
 * it (as API Gateway does), throttles per token, and runs the route's handler.
 */
/** The API's handlers and authorizer, each loaded by `load` from the file the stack points Lambda at. */
export async function loadApiDispatcher(
  load: (file: string) => Promise<(event: never, context: object) => Promise<unknown>>,
  throttle: Throttle = DEFAULT_THROTTLE,
): Promise<ApiDispatcher> {
  const handlers = Object.fromEntries(
    await Promise.all(Object.entries(API_HANDLERS).map(async ([name, file]) => [name, await load(file)])),
  ) as Record<keyof typeof API_HANDLERS, ApiHandler>;
  const authorize = (await load(AUTHORIZER_HANDLER)) as (event: APIGatewayTokenAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;
  const routes = API_ROUTES.map((route) => ({ ...route, pattern: templatePattern(route.resource) }));
  const buckets = new Map<string, { tokens: number; at: number }>();

  const throttled = (key: string): boolean => {
    const now = Date.now();
    const bucket = buckets.get(key) ?? { tokens: throttle.burst, at: now };
    bucket.tokens = Math.min(throttle.burst, bucket.tokens + ((now - bucket.at) / 1000) * throttle.ratePerSecond);
    bucket.at = now;
    buckets.set(key, bucket);
    if (bucket.tokens < 1) return true;
    bucket.tokens -= 1;
    return false;
  };

  return async ({ method, path, headers, body }) => {
    const [pathname = '/', query = ''] = path.split('?');
    for (const route of routes) {
      const match = route.method === method ? route.pattern.exec(pathname) : null;
      if (!match) continue;
      let authorizer: Record<string, unknown> | null = null;
      if (route.auth) {
        const authorizationToken = headers.authorization ?? '';
        if (throttled(authorizationToken)) return errorResult(429, 'THROTTLED', 'too many requests for this token; slow down');
        try {
          const { principalId, context } = await authorize({ type: 'TOKEN', authorizationToken, methodArn: LOCAL_METHOD_ARN });
          authorizer = { principalId, ...context };
        } catch {
          return errorResult(401, 'UNAUTHORIZED', 'a valid bearer token is required');
        }
      }
      const event = {
        httpMethod: method,
        resource: route.resource,
        path: pathname,
        pathParameters: match.groups ?? null,
        queryStringParameters: query ? Object.fromEntries(new URLSearchParams(query)) : null,
        headers,
        body: body ?? null,
        isBase64Encoded: false,
        requestContext: { requestId: randomUUID(), authorizer },
      } as unknown as APIGatewayProxyEvent;
      return handlers[route.handler](event, {});
    }
    return errorResult(404, 'NOT_FOUND', `no route ${method} ${pathname}`);
  };
}

const LOCAL_METHOD_ARN = 'arn:aws:execute-api:local:000000000000:local/local/ANY/';

function errorResult(statusCode: number, code: string, message: string): APIGatewayProxyResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: { code, message } }) };
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

export async function listen(server: import('node:net').Server, port: number, scheme: string): Promise<LocalServer> {
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
        // HTTP(S) servers keep idle keep-alive connections open: close them too.
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
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
