// The exit codes scripts can rely on, and the one place HTTP statuses map to them.

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  notFound: 3,
  conflict: 4,
  badInput: 5,
  throttled: 6,
  unreachable: 7,
} as const;

/** What `acm help` prints, in order. */
export const EXIT_CODE_HELP: Array<[number, string]> = [
  [EXIT.ok, 'ok'],
  [EXIT.failure, 'failure: --wait ended with a Failed domain or timed out; the API failed (5xx)'],
  [EXIT.usage, 'usage error: unknown command or flag, missing or extra argument, no app'],
  [EXIT.notFound, 'not found, or no access (404)'],
  [EXIT.conflict, 'conflict (409), e.g. the domain is on another app, the 101st domain, a database with no enhanced certificate yet'],
  [EXIT.badInput, 'bad input (400), or a file that cannot be read'],
  [EXIT.throttled, 'throttled (429)'],
  [EXIT.unreachable, 'cannot reach the API, or unauthorized (401)'],
];

export function exitCodeForHttpStatus(status: number): number {
  switch (status) {
    case 400:
      return EXIT.badInput;
    case 401:
      return EXIT.unreachable;
    case 403:
    case 404:
      return EXIT.notFound;
    case 409:
      return EXIT.conflict;
    case 429:
      return EXIT.throttled;
    default:
      return EXIT.failure;
  }
}
