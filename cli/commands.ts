// The acm commands: arguments in, API calls, tables or JSON out, an exit code back.
// `run` takes its I/O as a value so it can be driven in-process as well as by bin/acm.mjs.
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { apiClient, CliError, type ApiClient } from './api.ts';
import { EXIT, EXIT_CODE_HELP } from './exit-codes.ts';
import {
  acmStatusView,
  certificatesView,
  certificateView,
  databasesView,
  domainAddedView,
  domainsView,
  domainSummary,
  enhancedCertificatesDisabledView,
  enhancedCertificatesEnabledView,
  enhancedCertificateStatusView,
  isSettled,
  limitsView,
  redactPrivateKeys,
  refreshedView,
  rootRotatedView,
  terminalRows,
  timelineView,
  tlsPolicyView,
  type AcmStatus,
  type CertificateInfo,
  type Database,
  type DatabaseCertificateDisabled,
  type DatabaseCertificateStatus,
  type Domain,
  type LimitsReport,
  type RootRotated,
  type TimelineEvent,
  type TlsPolicyAnswer,
} from './format.ts';

export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface Io {
  env: Record<string, string | undefined>;
  stdout: Output;
  stderr: Output;
}

const DEFAULT_API_URL = 'http://127.0.0.1:3000';
const DEFAULT_WAIT_TIMEOUT_SECONDS = 600;
const POLL_INTERVAL_MS = 500;

const OPTIONS = {
  app: { type: 'string', short: 'a' },
  'api-url': { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  wait: { type: 'boolean' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface Context {
  api: ApiClient;
  app: string;
  json: boolean;
  wait: boolean;
  timeoutSeconds: number;
  io: Io;
  /** Prints the answer: the API's JSON with --json, else the human view of it. */
  print(body: unknown, view: () => string): void;
}

interface Command {
  /** Positional arguments; `[NAME]` is optional. */
  args: string[];
  summary: string;
  /** Flags beyond the common ones (--app, --api-url, --token, --json). */
  flags?: Array<'wait' | 'timeout'>;
  /** About the whole platform, not one app: no --app needed. */
  platformWide?: boolean;
  run(ctx: Context, args: string[]): Promise<number>;
}

const appPath = (ctx: Context, rest = '') => `/apps/${encodeURIComponent(ctx.app)}${rest}`;
const segment = encodeURIComponent;
const certificatesPath = (ctx: Context, database: string, rest = '') =>
  appPath(ctx, `/databases/${segment(database)}/enhanced-certificates${rest}`);

const COMMANDS: Record<string, Command> = {
  'certs:auto': {
    args: [],
    summary: 'status of every domain: Domain, Status, Last Updated, Reason',
    flags: ['wait', 'timeout'],
    run: async (ctx) => {
      if (ctx.wait) return waitUntilSettled(ctx);
      const status = await ctx.api.request('GET', appPath(ctx, '/acm'));
      ctx.print(status, () => acmStatusView(status as AcmStatus));
      return EXIT.ok;
    },
  },
  'certs:auto:enable': {
    args: [],
    summary: 'enable automated certificates for the app',
    run: async (ctx) => {
      const body = await ctx.api.request('POST', appPath(ctx, '/acm'));
      ctx.print(body, () => `Enabled automated certificate management on ${ctx.app}. Follow it: acm certs:auto --wait --app ${ctx.app}`);
      return EXIT.ok;
    },
  },
  'certs:auto:disable': {
    args: [],
    summary: 'disable automated certificates; removes the managed certificates',
    run: async (ctx) => {
      const body = await ctx.api.request('DELETE', appPath(ctx, '/acm'));
      const warnings = (body as { warnings?: string[] }).warnings ?? [];
      ctx.print(body, () =>
        [
          `Disabled automated certificate management on ${ctx.app}; its managed certificates are being removed.`,
          ...warnings.map((warning) => `Warning: ${warning}`),
        ].join('\n'),
      );
      return EXIT.ok;
    },
  },
  'certs:auto:refresh': {
    args: [],
    summary: 'retry the domains that are Failing or Failed',
    run: async (ctx) => {
      const body = await ctx.api.request('POST', appPath(ctx, '/acm/refresh'));
      ctx.print(body, () => refreshedView(ctx.app, (body as { refreshed?: string[] }).refreshed ?? []));
      return EXIT.ok;
    },
  },
  tls: {
    args: [],
    summary: "the app's TLS policy: the protocols and ciphers its domains accept",
    run: async (ctx) => {
      const answer = await ctx.api.request('GET', appPath(ctx, '/tls-policy'));
      ctx.print(answer, () => tlsPolicyView(answer as TlsPolicyAnswer));
      return EXIT.ok;
    },
  },
  'tls:set': {
    args: ['POLICY'],
    summary: 'choose the TLS policy: modern (TLS 1.3), default (TLS 1.2 and 1.3) or legacy (TLS 1.0 to 1.3, for old clients only)',
    run: async (ctx, [policy]) => {
      const answer = await ctx.api.request('PUT', appPath(ctx, '/tls-policy'), { policy });
      ctx.print(answer, () => tlsPolicyView(answer as TlsPolicyAnswer, true));
      return EXIT.ok;
    },
  },
  'ca:limits': {
    args: ['[HOSTNAME]'],
    summary: "the CA's rate-limit buckets as the ledger knows them (operator token); a name's buckets too",
    platformWide: true,
    run: async (ctx, [hostname]) => {
      const report = await ctx.api.request('GET', `/ca/limits${hostname ? `?hostname=${segment(hostname)}` : ''}`);
      ctx.print(report, () => limitsView(report as LimitsReport));
      return EXIT.ok;
    },
  },
  domains: {
    args: [],
    summary: "the app's custom domains and their DNS targets",
    run: async (ctx) => {
      const domains = await ctx.api.request('GET', appPath(ctx, '/domains'));
      ctx.print(domains, () => domainsView(ctx.app, domains as Domain[]));
      return EXIT.ok;
    },
  },
  'domains:add': {
    args: ['HOSTNAME'],
    summary: 'add a custom domain; its certificate follows',
    run: async (ctx, [hostname]) => {
      const domain = await ctx.api.request('POST', appPath(ctx, '/domains'), { hostname });
      ctx.print(domain, () => domainAddedView(ctx.app, domain as Domain));
      return EXIT.ok;
    },
  },
  'domains:remove': {
    args: ['HOSTNAME'],
    summary: 'remove a custom domain',
    run: async (ctx, [hostname = '']) => {
      const body = await ctx.api.request('DELETE', appPath(ctx, `/domains/${segment(hostname)}`));
      ctx.print(body, () => `Removed ${hostname} from ${ctx.app}.`);
      return EXIT.ok;
    },
  },
  'domains:events': {
    args: ['HOSTNAME'],
    summary: "a domain's timeline: every event, and why",
    run: async (ctx, [hostname = '']) => {
      const events = await ctx.api.request('GET', appPath(ctx, `/domains/${segment(hostname)}/events`));
      ctx.print(events, () => timelineView(hostname, events as TimelineEvent[]));
      return EXIT.ok;
    },
  },
  certs: {
    args: [],
    summary: "the app's certificates, managed and uploaded",
    run: async (ctx) => {
      const certificates = await ctx.api.request('GET', appPath(ctx, '/certs'));
      ctx.print(certificates, () => certificatesView(ctx.app, certificates as CertificateInfo[]));
      return EXIT.ok;
    },
  },
  'certs:add': {
    args: ['CHAIN_FILE', 'KEY_FILE'],
    summary: 'upload a certificate (PEM chain and private key); turns automated certificates off',
    run: async (ctx, [chainFile = '', keyFile = '']) => {
      const body = { certificateChain: await readPem(chainFile), privateKey: await readPem(keyFile) };
      const cert = await ctx.api.request('POST', appPath(ctx, '/certs'), body);
      ctx.print(
        cert,
        () =>
          `Added a certificate to ${ctx.app}; automated certificate management is now off.\n\n${certificateView(cert as CertificateInfo)}`,
      );
      return EXIT.ok;
    },
  },
  'certs:info': {
    args: ['NAME'],
    summary: 'one certificate',
    run: async (ctx, [name = '']) => {
      const cert = await ctx.api.request('GET', appPath(ctx, `/certs/${segment(name)}`));
      ctx.print(cert, () => certificateView(cert as CertificateInfo));
      return EXIT.ok;
    },
  },
  'certs:update': {
    args: ['NAME', 'CHAIN_FILE', '[KEY_FILE]'],
    summary: 'replace a certificate with a new PEM chain (and private key)',
    run: async (ctx, [name = '', chainFile = '', keyFile]) => {
      const body = { certificateChain: await readPem(chainFile), ...(keyFile && { privateKey: await readPem(keyFile) }) };
      const cert = await ctx.api.request('PUT', appPath(ctx, `/certs/${segment(name)}`), body);
      ctx.print(cert, () => `Updated certificate ${name} on ${ctx.app}.\n\n${certificateView(cert as CertificateInfo)}`);
      return EXIT.ok;
    },
  },
  'certs:remove': {
    args: ['NAME'],
    summary: 'remove a certificate; turns automated certificates off',
    run: async (ctx, [name = '']) => {
      const body = await ctx.api.request('DELETE', appPath(ctx, `/certs/${segment(name)}`));
      ctx.print(body, () => `Removed certificate ${name} from ${ctx.app}; automated certificate management is now off.`);
      return EXIT.ok;
    },
  },
  'data:databases': {
    args: [],
    summary: "the app's Postgres databases: Database, Hostname, Port",
    run: async (ctx) => {
      const databases = await ctx.api.request('GET', appPath(ctx, '/databases'));
      ctx.print(databases, () => databasesView(ctx.app, databases as Database[]));
      return EXIT.ok;
    },
  },
  'data:enhanced-certificates:enable': {
    args: ['DATABASE'],
    summary: 'a publicly trusted certificate for the database, for sslmode=verify-full; the previous URL stays valid',
    run: async (ctx, [database = '']) => {
      const status = await ctx.api.request('POST', certificatesPath(ctx, database));
      ctx.print(status, () => enhancedCertificatesEnabledView(ctx.app, status as DatabaseCertificateStatus));
      return EXIT.ok;
    },
  },
  'data:enhanced-certificates:disable': {
    args: ['DATABASE'],
    summary: 'back to the platform-signed certificate; verify-full clients must move to sslmode=require first',
    run: async (ctx, [database = '']) => {
      const body = await ctx.api.request('DELETE', certificatesPath(ctx, database));
      ctx.print(body, () => enhancedCertificatesDisabledView(ctx.app, body as DatabaseCertificateDisabled));
      return EXIT.ok;
    },
  },
  'data:enhanced-certificates:status': {
    args: ['DATABASE'],
    summary: "the database certificate's status, roots, connection URL and open SSL connections",
    run: async (ctx, [database = '']) => {
      const status = await ctx.api.request('GET', certificatesPath(ctx, database));
      ctx.print(status, () => enhancedCertificateStatusView(ctx.app, status as DatabaseCertificateStatus));
      return EXIT.ok;
    },
  },
  'data:enhanced-certificates:trust-bundle': {
    args: ['DATABASE'],
    summary: 'the PEM roots clients should trust, on stdout (> trust-bundle.pem); PEM with --json too',
    run: async (ctx, [database = '']) => {
      const pem = await ctx.api.requestText('GET', certificatesPath(ctx, database, '/trust-bundle'));
      ctx.io.stdout.write(redactPrivateKeys(pem.endsWith('\n') || !pem ? pem : `${pem}\n`));
      return EXIT.ok;
    },
  },
  'data:enhanced-certificates:rotate': {
    args: ['DATABASE', 'ROOT'],
    summary: 'serve the chain to another of the available roots; clients must trust the bundle first',
    run: async (ctx, [database = '', root = '']) => {
      const rotated = await ctx.api.request('POST', certificatesPath(ctx, database, '/rotate'), { root });
      ctx.print(rotated, () => rootRotatedView(ctx.app, rotated as RootRotated));
      return EXIT.ok;
    },
  },
};

/** Runs one command line; never throws: every failure is a line on stderr and an exit code. */
export async function run(argv: string[], io: Io): Promise<number> {
  const fail = (message: string, code: number) => {
    io.stderr.write(`acm: ${redactPrivateKeys(message)}\n`);
    return code;
  };
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    } catch (error) {
      // parseArgs explains at length; its first sentence is the part that matters.
      throw usage(String((error as Error).message).split('. ')[0] ?? '');
    }
    const { values, positionals } = parsed;
    const [name, ...args] = positionals;
    if (name === undefined || name === 'help' || values.help) {
      const topic = name === 'help' ? args[0] : name;
      if (topic !== undefined && !COMMANDS[topic]) throw usage(`unknown command "${topic}"`);
      const text = `${topic ? commandHelp(topic) : help()}\n`;
      const bare = name === undefined && !values.help; // a bare `acm` is a usage error
      (bare ? io.stderr : io.stdout).write(text);
      return bare ? EXIT.usage : EXIT.ok;
    }
    const command = COMMANDS[name];
    if (!command) throw usage(`unknown command "${name}"`);
    checkArguments(name, command, args);
    for (const flag of ['wait', 'timeout'] as const) {
      if (values[flag] !== undefined && !command.flags?.includes(flag)) throw usage(`${name} has no --${flag} flag`);
    }
    if (values.timeout !== undefined && !values.wait) throw usage('--timeout goes with --wait');
    const timeoutSeconds = values.timeout === undefined ? DEFAULT_WAIT_TIMEOUT_SECONDS : Number(values.timeout);
    if (!(timeoutSeconds > 0) || !Number.isFinite(timeoutSeconds)) throw usage('--timeout: must be a number of seconds above 0');
    const app = values.app ?? io.env.ACM_APP ?? '';
    if (!app && !command.platformWide) throw usage('no app: pass --app APP or set ACM_APP');
    const apiUrl = values['api-url'] ?? (io.env.ACM_API_URL || DEFAULT_API_URL);
    if (!URL.canParse(apiUrl)) throw usage(`--api-url: "${apiUrl}" is not a URL`);
    const json = values.json ?? false;
    const ctx: Context = {
      api: apiClient({ apiUrl, token: values.token ?? (io.env.ACM_TOKEN || undefined) }),
      app,
      json,
      wait: values.wait ?? false,
      timeoutSeconds,
      io,
      print: (body, view) => {
        if (json && body === undefined) return;
        io.stdout.write(`${redactPrivateKeys(json ? JSON.stringify(body, null, 2) : view())}\n`);
      },
    };
    return await command.run(ctx, args);
  } catch (error) {
    if (error instanceof CliError) return fail(error.message, error.exitCode);
    return fail(error instanceof Error ? error.message : String(error), EXIT.failure);
  }
}

const usage = (message: string) => new CliError(`${message}. See: acm help`, EXIT.usage);

function checkArguments(name: string, command: Command, args: string[]): void {
  const required = command.args.filter((arg) => !arg.startsWith('['));
  if (args.length < required.length) throw usage(`${name}: missing ${required.slice(args.length).join(' ')}`);
  if (args.length > command.args.length) throw usage(`${name}: unexpected argument "${args[command.args.length]}"`);
}

/** Reads a PEM file for upload. The contents are sent, never printed. */
async function readPem(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, EXIT.badInput);
  }
}

/** `certs:auto --wait`: redraws on a TTY, prints each change once otherwise, until every domain is settled. */
async function waitUntilSettled(ctx: Context): Promise<number> {
  const started = Date.now();
  const deadline = started + ctx.timeoutSeconds * 1000;
  const screen = redrawing(ctx.io.stdout);
  for (;;) {
    const body = await ctx.api.request('GET', appPath(ctx, '/acm'));
    const status = body as AcmStatus;
    const settled = status.domains.every(isSettled);
    const timedOut = !settled && Date.now() >= deadline;
    const done = settled || timedOut;
    if (!ctx.json) {
      const elapsed = Math.round((Date.now() - started) / 1000);
      const waiting = ctx.io.stdout.isTTY && !done ? `\n\nWaiting until every domain is Cert Issued or Failed (${elapsed} s)...` : '';
      screen(`${acmStatusView(status)}${waiting}`);
    }
    if (done) {
      if (ctx.json) ctx.print(body, () => '');
      if (timedOut) {
        const pending = status.domains.filter((domain) => !isSettled(domain)).map(domainSummary);
        throw new CliError(`timed out after ${ctx.timeoutSeconds} s; not settled: ${pending.join(', ')}`, EXIT.failure);
      }
      const failed = status.domains.filter((domain) => domain.status === 'Failed');
      if (failed.length) throw new CliError(`certificates Failed for ${failed.map(domainSummary).join(', ')}`, EXIT.failure);
      return EXIT.ok;
    }
    await sleep(Math.max(0, Math.min(POLL_INTERVAL_MS, deadline - Date.now())));
  }
}

/** Shows a view: in place on a terminal, else appended, and only when it changed. */
function redrawing(out: Output): (view: string) => void {
  let last: string | undefined;
  return (view) => {
    if (view === last) return;
    if (last !== undefined) out.write(out.isTTY ? `\x1b[${terminalRows(last, out.columns)}A\x1b[J` : '\n');
    out.write(`${view}\n`);
    last = view;
  };
}

function commandHelp(name: string): string {
  const command = COMMANDS[name]!;
  const flags = (command.flags ?? []).map((flag) => (flag === 'wait' ? ' [--wait]' : ' [--timeout SECONDS]')).join('');
  return [`Usage: acm ${[name, ...command.args].join(' ')}${flags} [--app APP] [--json]`, '', `  ${command.summary}`].join('\n');
}

function help(): string {
  const commands = Object.entries(COMMANDS).map(([name, command]) => [[name, ...command.args].join(' '), command.summary] as const);
  const width = Math.max(...commands.map(([usageLine]) => usageLine.length));
  return [
    "acm: automated HTTPS certificates for an app's custom domains, and enhanced certificates for its databases",
    '',
    'Usage: acm COMMAND [ARGS] [--app APP] [--json]',
    '',
    'Commands:',
    ...commands.map(([usageLine, summary]) => `  ${usageLine.padEnd(width)}  ${summary}`),
    `  ${'help [COMMAND]'.padEnd(width)}  this help, or one command's`,
    '',
    'Options (every command):',
    '  -a, --app APP      the app (or ACM_APP)',
    `  --api-url URL      the API (or ACM_API_URL; default ${DEFAULT_API_URL})`,
    '  --token TOKEN      bearer token (or ACM_TOKEN)',
    "  --json             print the API's JSON as is (nothing when the API answers without a body;",
    '                     data:enhanced-certificates:trust-bundle prints its PEM either way)',
    '  -h, --help         help',
    'certs:auto only:',
    '  --wait             redraw until every domain is Cert Issued or Failed',
    `  --timeout SECONDS  give up waiting after SECONDS (default ${DEFAULT_WAIT_TIMEOUT_SECONDS})`,
    '',
    'Times are ISO 8601, UTC, as the API gives them. Errors are one line on stderr: "acm: MESSAGE".',
    '',
    'Exit codes:',
    ...EXIT_CODE_HELP.map(([code, meaning]) => `  ${code}  ${meaning}`),
  ].join('\n');
}
