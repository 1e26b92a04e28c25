// The HTTP client: one request function for the contract in ../shared/API.md (JSON), one for
// its text answer (the trust bundle's PEM).
// Every failure becomes a CliError carrying the exit code scripts rely on.
import { EXIT, exitCodeForHttpStatus } from './exit-codes.ts';

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export interface ApiClient {
  /** The parsed JSON body of a 2xx answer; undefined when the answer has no body. */
  request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<unknown>;
  /** The body of a 2xx answer as text (the trust bundle's PEM); failures as for `request`. */
  requestText(method: 'GET', path: string): Promise<string>;
}

const REQUEST_TIMEOUT_MS = 30_000;

export function apiClient(options: { apiUrl: string; token: string | undefined }): ApiClient {
  const base = options.apiUrl.replace(/\/+$/, '');
  async function send(method: string, path: string, accept: string, body?: unknown): Promise<{ response: Response; text: string }> {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: {
          accept,
          ...(body !== undefined && { 'content-type': 'application/json' }),
          ...(options.token && { authorization: `Bearer ${options.token}` }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new CliError(`cannot reach the API at ${base}: ${networkCause(error)}`, EXIT.unreachable);
    }
    const text = await response.text().catch(() => '');
    if (!response.ok) {
      const message = apiErrorMessage(parseJson(text)) ?? `the API answered ${response.status} ${response.statusText}`.trim();
      throw new CliError(message, exitCodeForHttpStatus(response.status));
    }
    return { response, text };
  }
  return {
    async request(method, path, body) {
      const { response, text } = await send(method, path, 'application/json', body);
      if (!text) return undefined;
      const parsed = parseJson(text);
      if (parsed === undefined) throw new CliError(`the API answered ${response.status} with a body that is not JSON`, EXIT.failure);
      return parsed;
    },
    async requestText(method, path) {
      return (await send(method, path, 'application/x-pem-file, text/plain, application/json')).text;
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** The message of the contract's `{error: {code, message}}`. */
function apiErrorMessage(body: unknown): string | undefined {
  const error = (body as { error?: { message?: unknown } } | undefined)?.error;
  return typeof error?.message === 'string' ? error.message : undefined;
}

function networkCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError') return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  const cause = error.cause as { code?: string; message?: string } | undefined;
  return cause?.code ?? cause?.message ?? error.message;
}
