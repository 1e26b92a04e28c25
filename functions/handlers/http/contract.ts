// The HTTP API's contract (../shared/API.md) in one place: routes, request schemas
// that validate input, response schemas, and from these the OpenAPI document.
// API Gateway and the local cloud are built from the same table.
// Written with zod/mini, zod's functional API, so that a bundle carries only the schema kinds and checks it uses
// (classic's one `z` object put 444 KB in every API Lambda); metadata goes in the global registry, which
// toJSONSchema reads as classic's .meta() did.
import * as z from 'zod/mini';
import { en } from 'zod/locales';
import { FAILURE_REASONS, REASONS } from '../../domain/failure-reasons.ts';
import { STATUS_WORDS, type DomainStatus as DomainStatusFields } from '../../domain/status.ts';
import { DISABLE_WARNING, ROTATION_GUIDANCE } from '../../domain/database.ts';
import type { CertificateInfo as CertificateInfoFields } from '../../domain/uploaded-certificate.ts';
import type { SentNotice } from '../../domain/notices.ts';
import { TLS_POLICIES, TLS_POLICY_NAMES, TLS_POLICY_RULE, TLS_PROTOCOLS, type TlsPolicySetting } from '../../domain/tls-policy.ts';
import type { AppRow } from '../../adapters/status/status-store.ts';
import type { LimitsReport } from '../../application/ledger.ts';

// The 400s quote zod's English messages, and mini sets no locale itself. `en` is imported by name: `z.locales.en`
// would bundle every locale.
z.config(en());

const Timestamp = z.string().register(z.globalRegistry, { format: 'date-time' });
const Integer = () => z.number().check(z.int());

export const AddDomainBody = z.object({
  hostname: z.string().check(z.minLength(1), z.maxLength(253)).register(z.globalRegistry, { example: 'www.example.com' }),
});
export const UploadCertificateBody = z.object({
  certificateChain: z
    .string()
    .check(z.minLength(1))
    .register(z.globalRegistry, { description: 'PEM: the certificate first, then intermediates' }),
  privateKey: z
    .string()
    .check(z.minLength(1))
    .register(z.globalRegistry, { description: 'PEM; accepted, stored encrypted or in ACM, never returned' }),
});
export const ReplaceCertificateBody = z.partial(UploadCertificateBody, { privateKey: true });

/** A notice sent to owners (also an EventBridge event of the same type and notificationId). */
const Notice = z.object({
  notificationId: z.string(),
  type: z.enum(['CertificateIssuanceFailing', 'CertificateExpiring']),
  sentAt: Timestamp,
  threshold: z.optional(Integer()).register(z.globalRegistry, { description: 'Expiry notices: the threshold crossed, in days' }),
  daysLeft: z.optional(Integer()),
  expiresAt: z.optional(Timestamp),
  certificateName: z.optional(z.string()).register(z.globalRegistry, { description: "An uploaded certificate's name" }),
}) satisfies z.ZodMiniType<SentNotice>;

/** What a domain's status and a database certificate's share. */
const CertificateProgress = z.object({
  hostname: z.string(),
  reason: z.optional(z.enum(FAILURE_REASONS)).register(z.globalRegistry, {
    description: FAILURE_REASONS.map((code) => `${code}: ${REASONS[code].meaning}.`).join(' '),
  }),
  rateLimitPredicted: z.optional(z.boolean()),
  message: z.optional(z.string()),
  lastUpdated: Timestamp,
  expiresAt: z.optional(Timestamp),
  rateLimitedUntil: z.optional(Timestamp),
  renewsAt: z.optional(Timestamp),
  failingSince: z.optional(Timestamp),
  notices: z
    .optional(z.array(Notice))
    .register(z.globalRegistry, { description: 'What owners were told (failing for days, expiring), latest last' }),
});
const DomainStatus = z.extend(CertificateProgress, {
  status: z.enum(STATUS_WORDS),
  dnsTarget: z.string(),
}) satisfies z.ZodMiniType<DomainStatusFields>;
export const DATABASE_STATUS_WORDS = [...STATUS_WORDS, 'Disabled'] as const;
const DatabaseCertificateStatus = z.extend(CertificateProgress, {
  database: z.string(),
  port: Integer(),
  enabled: z.boolean(),
  status: z.enum(DATABASE_STATUS_WORDS),
  connectionUrl: z
    .string()
    .register(z.globalRegistry, { description: "sslmode=verify-full against the public roots; credentials are the platform's" }),
  previousConnectionUrl: z.string().register(z.globalRegistry, { description: 'The sslmode=require URL, which stays valid' }),
  servedRoot: z.optional(z.string()).register(z.globalRegistry, { description: 'The root whose chain the database serves' }),
  availableRoots: z.array(z.string()).register(z.globalRegistry, { description: 'Every root the CA offered a chain to' }),
  sslConnections: z.array(
    z.object({ datname: z.string(), usename: z.string(), clientAddr: z.string(), version: z.string(), cipher: z.string() }),
  ),
});
const Database = z.object({ database: z.string(), hostname: z.string(), port: Integer() });
export const RotateBody = z.object({
  root: z.string().check(z.minLength(1)).register(z.globalRegistry, { description: 'One of availableRoots' }),
});
const CertificateInfo = z.object({
  name: z.string(),
  managed: z.boolean(),
  commonNames: z.array(z.string()),
  issuer: z.string(),
  subject: z.string(),
  startsAt: Timestamp,
  expiresAt: Timestamp,
  trusted: z.boolean(),
}) satisfies z.ZodMiniType<CertificateInfoFields>;
const Domain = z.object({ hostname: z.string(), dnsTarget: z.string() });
const CaLimits = z.object({
  accountUrl: z.optional(z.string()),
  limits: z.array(z.object({ name: z.string(), capacity: z.number(), periodSeconds: z.number(), refillSeconds: z.number() })),
  buckets: z.array(
    z.object({
      limit: z.string(),
      key: z.string(),
      capacity: z.number(),
      tokensLeft: z.number(),
      nextTokenAt: z.optional(Timestamp),
      fullAt: z.optional(Timestamp),
    }),
  ),
}) satisfies z.ZodMiniType<LimitsReport>;
const Acm = z.object({ app: z.string(), enabled: z.boolean() });
export const TlsPolicyBody = z.object({
  policy: z
    .enum(TLS_POLICY_NAMES, { error: (issue) => (issue.input === undefined ? 'is required' : TLS_POLICY_RULE) })
    .register(z.globalRegistry, {
      description: TLS_POLICY_NAMES.map((name) => `${name}: ${TLS_POLICIES[name].protocols.join(', ')}.`).join(' '),
    }),
});
const TlsPolicy = z.object({
  policy: z.enum(TLS_POLICY_NAMES),
  protocols: z.array(z.enum(TLS_PROTOCOLS)),
  ciphers: z
    .array(z.string())
    .register(z.globalRegistry, { description: "In the server's order of preference; TLS 1.3 suites by IANA name, others by OpenSSL's" }),
  elbSecurityPolicy: z
    .string()
    .register(z.globalRegistry, { description: "The Elastic Load Balancing security policy of the app's HTTPS listener in AWS" }),
  warning: z.optional(z.string()).register(z.globalRegistry, { description: 'Only for legacy: what it lets in' }),
  changedAt: z.optional(Timestamp).register(z.globalRegistry, { description: 'Absent while the app has the default it started with' }),
}) satisfies z.ZodMiniType<TlsPolicySetting>;
const AppSummary = z.object({
  app: z.string(),
  acmEnabled: z.boolean(),
  domains: z.array(z.string()),
  tlsPolicy: TlsPolicy,
  notices: z.array(Notice).register(z.globalRegistry, { description: "What the app's owners were told about their uploaded certificates" }),
}) satisfies z.ZodMiniType<AppRow>;
const TimelineEvent = z.object({ version: Integer(), type: z.string(), at: Timestamp, data: z.record(z.string(), z.unknown()) });
export const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

export type HandlerGroup = 'domains' | 'acm' | 'certs' | 'databases' | 'challenge' | 'openapi' | 'ca';

export interface ApiRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** API Gateway's resource template; also the key the handler routes on. */
  resource: string;
  /** The Lambda (one per resource group) that serves it. */
  handler: HandlerGroup;
  summary: string;
  /** Needs `Authorization: Bearer`; the token must cover the path's app. */
  auth: boolean;
  /** Only an operator's token (scope `*`) may call it. */
  operator?: boolean;
  body?: z.ZodMiniType;
  success: { status: number; schema?: z.ZodMiniType };
}

export const API_ROUTES: ApiRoute[] = [
  {
    method: 'GET',
    resource: '/apps',
    handler: 'acm',
    auth: true,
    operator: true,
    summary: 'Every app, with its automation switch and the notices sent about its uploaded certificates',
    success: { status: 200, schema: z.array(AppSummary) },
  },
  {
    method: 'POST',
    resource: '/apps/{app}/acm',
    handler: 'acm',
    auth: true,
    summary: 'Enable automated certificates',
    success: { status: 202, schema: Acm },
  },
  {
    method: 'DELETE',
    resource: '/apps/{app}/acm',
    handler: 'acm',
    auth: true,
    summary: 'Disable automated certificates; removes managed certificates',
    success: {
      status: 202,
      schema: z.extend(Acm, {
        warnings: z
          .optional(z.array(z.string()))
          .register(z.globalRegistry, { description: "What turning automation on again soon costs in the CA's limits" }),
      }),
    },
  },
  {
    method: 'GET',
    resource: '/apps/{app}/acm',
    handler: 'acm',
    auth: true,
    summary: 'Status of every domain, and the TLS policy the edge applies to them',
    success: { status: 200, schema: z.extend(Acm, { domains: z.array(DomainStatus), tlsPolicy: TlsPolicy }) },
  },
  {
    method: 'POST',
    resource: '/apps/{app}/acm/refresh',
    handler: 'acm',
    auth: true,
    summary: 'Retry domains that are Failing or Failed',
    success: { status: 202, schema: z.object({ app: z.string(), refreshed: z.array(z.string()) }) },
  },
  {
    method: 'GET',
    resource: '/apps/{app}/tls-policy',
    handler: 'acm',
    auth: true,
    summary: "The app's TLS policy: the protocols and ciphers its domains accept",
    success: { status: 200, schema: z.extend(TlsPolicy, { app: z.string() }) },
  },
  {
    method: 'PUT',
    resource: '/apps/{app}/tls-policy',
    handler: 'acm',
    auth: true,
    summary: 'Choose the TLS policy (modern, default or legacy); the edge applies it from the next handshake',
    body: TlsPolicyBody,
    success: { status: 200, schema: z.extend(TlsPolicy, { app: z.string() }) },
  },
  {
    method: 'POST',
    resource: '/apps/{app}/domains',
    handler: 'domains',
    auth: true,
    summary: 'Add a custom domain',
    body: AddDomainBody,
    success: { status: 201, schema: Domain },
  },
  {
    method: 'GET',
    resource: '/apps/{app}/domains',
    handler: 'domains',
    auth: true,
    summary: 'List domains',
    success: { status: 200, schema: z.array(Domain) },
  },
  {
    method: 'DELETE',
    resource: '/apps/{app}/domains/{hostname}',
    handler: 'domains',
    auth: true,
    summary: 'Remove a domain',
    success: { status: 202 },
  },
  {
    method: 'GET',
    resource: '/apps/{app}/domains/{hostname}/events',
    handler: 'domains',
    auth: true,
    summary: "The domain's event timeline",
    success: { status: 200, schema: z.array(TimelineEvent) },
  },
  {
    method: 'POST',
    resource: '/apps/{app}/certs',
    handler: 'certs',
    auth: true,
    summary: 'Upload a certificate; turns automated certificates off',
    body: UploadCertificateBody,
    success: { status: 201, schema: CertificateInfo },
  },
  {
    method: 'GET',
    resource: '/apps/{app}/certs',
    handler: 'certs',
    auth: true,
    summary: 'List certificates',
    success: { status: 200, schema: z.array(CertificateInfo) },
  },
  {
    method: 'GET',
    resource: '/apps/{app}/certs/{name}',
    handler: 'certs',
    auth: true,
    summary: 'One certificate',
    success: { status: 200, schema: CertificateInfo },
  },
  {
    method: 'PUT',
    resource: '/apps/{app}/certs/{name}',
    handler: 'certs',
    auth: true,
    summary: 'Replace an uploaded certificate',
    body: ReplaceCertificateBody,
    success: { status: 200, schema: CertificateInfo },
  },
  {
    method: 'DELETE',
    resource: '/apps/{app}/certs/{name}',
    handler: 'certs',
    auth: true,
    summary: 'Remove a certificate; turns automated certificates off',
    success: { status: 202 },
  },
  {
    method: 'GET',
    resource: '/apps/{app}/databases',
    handler: 'databases',
    auth: true,
    summary: "List the app's databases",
    success: { status: 200, schema: z.array(Database) },
  },
  {
    method: 'POST',
    resource: '/apps/{app}/databases/{database}/enhanced-certificates',
    handler: 'databases',
    auth: true,
    summary: 'Enable enhanced certificates: a publicly trusted certificate for the database host, for sslmode=verify-full',
    success: { status: 202, schema: DatabaseCertificateStatus },
  },
  {
    method: 'DELETE',
    resource: '/apps/{app}/databases/{database}/enhanced-certificates',
    handler: 'databases',
    auth: true,
    summary: 'Disable enhanced certificates: the platform-signed certificate is served again',
    success: {
      status: 202,
      schema: z.object({
        database: z.string(),
        enabled: z.literal(false),
        warning: z.string().register(z.globalRegistry, { example: DISABLE_WARNING }),
      }),
    },
  },
  {
    method: 'GET',
    resource: '/apps/{app}/databases/{database}/enhanced-certificates',
    handler: 'databases',
    auth: true,
    summary: "The database certificate's status, its connection URL and the SSL connections open now",
    success: { status: 200, schema: DatabaseCertificateStatus },
  },
  {
    method: 'GET',
    resource: '/apps/{app}/databases/{database}/enhanced-certificates/trust-bundle',
    handler: 'databases',
    auth: true,
    summary: 'The PEM roots clients should trust: every root the certificate has a chain to',
    success: { status: 200 },
  },
  {
    method: 'POST',
    resource: '/apps/{app}/databases/{database}/enhanced-certificates/rotate',
    handler: 'databases',
    auth: true,
    summary: 'Serve the chain to another root (no new order, a reload)',
    body: RotateBody,
    success: {
      status: 202,
      schema: z.extend(DatabaseCertificateStatus, { guidance: z.string().register(z.globalRegistry, { example: ROTATION_GUIDANCE }) }),
    },
  },
  {
    method: 'GET',
    resource: '/ca/limits',
    handler: 'ca',
    auth: true,
    operator: true,
    summary: "The CA's rate-limit buckets as the ledger knows them; ?hostname= adds that name's",
    success: { status: 200, schema: CaLimits },
  },
  {
    method: 'GET',
    resource: '/.well-known/acme-challenge/{token}',
    handler: 'challenge',
    auth: false,
    summary: 'HTTP-01 answer',
    success: { status: 200 },
  },
  {
    method: 'GET',
    resource: '/openapi.json',
    handler: 'openapi',
    auth: false,
    summary: 'This API, as OpenAPI 3.1',
    success: { status: 200 },
  },
];

const ERRORS: Record<number, string> = {
  400: 'Bad input: the message names the field and the rule; nothing was changed',
  401: 'No valid bearer token',
  403: 'The route needs an operator token',
  404: 'Unknown app, domain or certificate, or one the token does not cover',
  409: 'Conflict: the domain is on another app, or the app has 100 domains',
  429: 'Throttled',
};

/** The OpenAPI 3.1 document, generated from the routes and their schemas. */
export function openApiDocument(): Record<string, unknown> {
  const schema = (type: z.ZodMiniType) => {
    const { $schema: _dialect, ...jsonSchema } = z.toJSONSchema(type, { io: 'input', unrepresentable: 'any' });
    return jsonSchema;
  };
  const json = (type: z.ZodMiniType) => ({ content: { 'application/json': { schema: schema(type) } } });
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of API_ROUTES) {
    const parameters = [...route.resource.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
      name,
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const errors = route.operator ? [400, 401, 403, 429] : route.auth ? [400, 401, 404, 409, 429] : [404];
    (paths[route.resource] ??= {})[route.method.toLowerCase()] = {
      summary: route.summary,
      operationId: `${route.method.toLowerCase()}${route.resource.replace(/[^A-Za-z]+(\w)/g, (_match, letter: string) => letter.toUpperCase())}`,
      ...(parameters.length > 0 && { parameters }),
      ...(route.auth && { security: [{ bearer: [] }] }),
      ...(route.body && { requestBody: { required: true, ...json(route.body) } }),
      responses: {
        [route.success.status]: { description: route.summary, ...(route.success.schema && json(route.success.schema)) },
        ...Object.fromEntries(errors.map((status) => [status, { description: ERRORS[status] ?? 'Error', ...json(ErrorBody) }])),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Automated certificates for custom domains', version: '1.0.0' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
