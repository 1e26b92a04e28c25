// The local cloud's console: a page for operators and for anyone trying the service. It
// reads the public API (proxied under /api, GET only, with the caller's token) and the
// local runner's execution history (/executions, operator tokens only). The page is plain
// DOM code bundled by esbuild from npm packages at the first request: nothing from the internet.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { LocalWorkflows } from '../../../functions/adapters/workflows/local-workflows.ts';
import { listen, type LocalServer } from '../api-server.ts';
import { executionDetail, executionList } from './executions.ts';
import { layoutStateMachine, type AslDefinition } from './graph.ts';
import type { StateGraph } from './types.ts';

export interface ConsoleServerOptions {
  /** The public API the page reads. */
  apiUrl: string;
  workflows: Pick<LocalWorkflows, 'executions'>;
  /** The state machine definition the runner executes, drawn as the graph. */
  definition: Record<string, unknown>;
  /** Whether a bearer token has operator scope: execution history covers every app. */
  isOperatorToken(token: string): boolean;
  /** 0 picks a free port. */
  port: number;
}

const PAGE = fileURLToPath(new URL('./page/', import.meta.url));
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console.css': { file: 'console.css', type: 'text/css; charset=utf-8' },
};
const HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // Everything the page runs and reads comes from this server.
  'content-security-policy': "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
};

export async function startConsoleServer(options: ConsoleServerOptions): Promise<LocalServer> {
  let script: Promise<string> | undefined;
  let graph: StateGraph | undefined;
  const local = (path: string): unknown => {
    if (path === '/executions') return executionList(options.workflows.executions.values());
    if (path === '/state-machine') return (graph ??= layoutStateMachine(options.definition as unknown as AslDefinition));
    const name = /^\/executions\/([^/]+)$/.exec(path)?.[1];
    const execution = name === undefined ? undefined : options.workflows.executions.get(decodeURIComponent(name));
    return execution && executionDetail(execution);
  };

  const server = http.createServer(async (request, response) => {
    const send = (status: number, type: string, body: string) => {
      response.writeHead(status, { ...HEADERS, 'content-type': type });
      response.end(body);
    };
    const json = (status: number, body: unknown) => send(status, 'application/json', JSON.stringify(body));
    const error = (status: number, code: string, message: string) => json(status, { error: { code, message } });
    try {
      const url = new URL(request.url ?? '/', 'http://console');
      if (request.method !== 'GET') return error(405, 'READ_ONLY', 'the console only reads');
      if (url.pathname.startsWith('/api/')) return await proxy(`${options.apiUrl}${url.pathname.slice(4)}${url.search}`, request, response);
      const page = STATIC[url.pathname];
      if (page) return send(200, page.type, await readFile(`${PAGE}${page.file}`, 'utf8'));
      if (url.pathname === '/console.js') {
        // Built once; a failed build is tried again at the next request.
        script ??= bundle().catch((cause: unknown) => {
          script = undefined;
          throw cause;
        });
        return send(200, 'text/javascript; charset=utf-8', await script);
      }
      const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
      if (!token || !options.isOperatorToken(token)) return error(401, 'UNAUTHORIZED', 'an operator token is required');
      const answer = local(url.pathname);
      return answer === undefined ? error(404, 'NOT_FOUND', `nothing at ${url.pathname}`) : json(200, answer);
    } catch (cause) {
      return error(500, 'INTERNAL', String(cause));
    }
  });
  return listen(server, options.port, 'http');
}

/** The API's answer, status and body as they are; only the caller's token goes along. */
async function proxy(target: string, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const answer = await fetch(target, { headers: request.headers.authorization ? { authorization: request.headers.authorization } : {} });
  response.writeHead(answer.status, { ...HEADERS, 'content-type': answer.headers.get('content-type') ?? 'application/json' });
  response.end(Buffer.from(await answer.arrayBuffer()));
}

/** The page's script and what it imports (the CLI's formatting, date-fns), in one ES module. */
async function bundle(): Promise<string> {
  const result = await build({
    entryPoints: [`${PAGE}main.js`],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    legalComments: 'none',
  });
  return result.outputFiles[0]!.text;
}
