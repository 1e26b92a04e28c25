// What people read: the API's answers as tables. Pure: no I/O, no clock. Times are
// printed exactly as the API gives them (ISO 8601, UTC), everywhere.
import { formatDistance } from 'date-fns';
import type { SslConnection } from '../functions/adapters/databases/database-servers.ts';
import type { LimitsReport } from '../functions/application/ledger.ts';
import type { ConnectionUrls } from '../functions/domain/database.ts';
import type { TlsPolicyAnswer } from '../functions/application/tls-policy.ts';
import { SETTLED_STATUSES, type DatabaseCertificateRow, type DomainStatus } from '../functions/domain/status.ts';
import type { CertificateInfo } from '../functions/domain/uploaded-certificate.ts';

export type { CertificateInfo, DomainStatus, SslConnection };

export interface AcmStatus {
  app: string;
  enabled: boolean;
  domains: DomainStatus[];
}

/** The contract's answer about an app's TLS policy. */
export type { TlsPolicyAnswer };

export interface Domain {
  hostname: string;
  dnsTarget: string;
}

export interface TimelineEvent {
  version: number;
  type: string;
  at: string;
  data?: Record<string, unknown>;
}

export type { LimitsReport };

export interface Database {
  database: string;
  hostname: string;
  port: number;
}

/** The contract's DatabaseCertificateStatus. */
export interface DatabaseCertificateStatus extends DatabaseCertificateRow, ConnectionUrls {
  sslConnections: SslConnection[];
}

export interface DatabaseCertificateDisabled {
  database: string;
  enabled: false;
  warning: string;
}

export interface RootRotated extends DatabaseCertificateStatus {
  guidance: string;
}

/** The buckets, tokens left of each, and when the next token and a full bucket come. */
export function limitsView(report: LimitsReport): string {
  const limits = report.limits.map(
    (limit) => `  ${limit.name}: ${limit.capacity} per ${limit.periodSeconds} s, one back every ${limit.refillSeconds} s`,
  );
  const rows = report.buckets.map((bucket) => [
    bucket.limit,
    bucket.key,
    `${bucket.tokensLeft}/${bucket.capacity}`,
    bucket.nextTokenAt ?? '',
    bucket.fullAt ?? 'full',
  ]);
  return [
    `=== CA rate limits${report.accountUrl ? ` (account ${report.accountUrl})` : ''}`,
    '',
    ...limits,
    '',
    rows.length ? table(['Bucket', 'Key', 'Left', 'Next Token', 'Full At'], rows) : 'No order recorded yet: every bucket is full.',
  ].join('\n');
}

/** `certs:auto --wait` stops once every domain is settled. */
export const isSettled = (domain: DomainStatus): boolean => SETTLED_STATUSES.includes(domain.status);

/** Columns two spaces apart, a rule under the header, no trailing spaces. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((width) => '─'.repeat(width))), ...rows.map(line)].join('\n');
}

/** Labels padded to one width: `Expires At:  2025-...`. */
export function keyValues(pairs: Array<[string, string]>): string {
  const width = Math.max(...pairs.map(([key]) => key.length + 1));
  return pairs.map(([key, value]) => `${`${key}:`.padEnd(width)}  ${value}`.trimEnd()).join('\n');
}

const heading = (text: string) => `=== ${text}`;

/** "about 1 hour", "3 days": how the platform's CLI shows when a status last changed (`--json` keeps the ISO time). */
export function relativeTime(iso: string, now: Date = new Date(), { addSuffix = false } = {}): string {
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? iso : formatDistance(at, now, { addSuffix });
}

export function acmStatusView({ app, enabled, domains }: AcmStatus, now: Date = new Date()): string {
  const title = heading(`Automated certificate management is ${enabled ? 'enabled' : 'disabled'} on ${app}`);
  if (domains.length === 0) return `${title}\n\n${app} has no custom domains. Add one: acm domains:add HOSTNAME --app ${app}`;
  const rows = domains.map((domain) => [domain.hostname, domain.status, relativeTime(domain.lastUpdated, now), reasonCell(domain)]);
  const messages = domains.filter((domain) => domain.message).map((domain) => `${domain.hostname}: ${domain.message}`);
  return [title, '', table(['Domain', 'Status', 'Last Updated', 'Reason'], rows), ...(messages.length ? ['', ...messages] : [])].join('\n');
}

/** The reason code, and when a rate limit ends. */
export function reasonCell(domain: Pick<DomainStatus, 'reason' | 'rateLimitedUntil'>): string {
  return [domain.reason, domain.rateLimitedUntil && `until ${domain.rateLimitedUntil}`].filter(Boolean).join(' ');
}

/** One line for a domain that did not end well: `www.example.com (Failed: CAA_FORBIDS)`. */
export function domainSummary(domain: DomainStatus): string {
  return `${domain.hostname} (${domain.status}${domain.reason ? `: ${domain.reason}` : ''})`;
}

export function domainsView(app: string, domains: Domain[]): string {
  if (domains.length === 0) return `${app} has no custom domains. Add one: acm domains:add HOSTNAME --app ${app}`;
  return [
    heading(`${app} custom domains`),
    '',
    table(
      ['Domain Name', 'DNS Target'],
      domains.map((domain) => [domain.hostname, domain.dnsTarget]),
    ),
    '',
    "Point each domain's CNAME record (ALIAS or ANAME at the apex) at its DNS target.",
  ].join('\n');
}

export function domainAddedView(app: string, { hostname, dnsTarget }: Domain): string {
  return [
    `Added ${hostname} to ${app}.`,
    `Point its DNS at ${dnsTarget} (a CNAME record), then follow its certificate: acm certs:auto --wait --app ${app}`,
  ].join('\n');
}

export function timelineView(hostname: string, events: TimelineEvent[]): string {
  return [
    heading(`${hostname} timeline`),
    '',
    table(
      ['#', 'At', 'Event', 'Detail'],
      events.map((event) => [String(event.version), event.at, event.type, eventDetail(event.data ?? {})]),
    ),
  ].join('\n');
}

/** The part of an event's data a person reads first; `--json` has all of it. */
export function eventDetail(data: Record<string, unknown>): string {
  const text = (key: string) => (typeof data[key] === 'string' || typeof data[key] === 'number' ? String(data[key]) : undefined);
  const message = text('message');
  if (message) return text('reason') ? `${text('reason')}: ${message}` : message;
  if (text('until')) return `until ${text('until')}`;
  if (Array.isArray(data.answers)) {
    return (data.answers as Array<{ name?: string; type?: string; data?: string }>)
      .map((answer) => `${answer.name} ${answer.type} ${answer.data}`)
      .join(', ');
  }
  if (text('notAfter')) return `expires ${text('notAfter')}`;
  if (text('trigger')) return `attempt ${text('attempt')} (${text('trigger')})`;
  if (text('dnsTarget')) return `DNS target ${text('dnsTarget')}`;
  return text('reason') ?? text('because') ?? '';
}

export function refreshedView(app: string, refreshed: string[]): string {
  if (refreshed.length === 0) return `${app} has no Failing or Failed domains: nothing to refresh.`;
  return [`Refreshing ${refreshed.length} domain${refreshed.length === 1 ? '' : 's'} of ${app}:`, ...refreshed.map((h) => `  ${h}`)].join(
    '\n',
  );
}

export function certificatesView(app: string, certificates: CertificateInfo[]): string {
  if (certificates.length === 0) return `${app} has no certificates.`;
  return [
    heading(`${app} certificates`),
    '',
    table(
      ['Name', 'Common Name(s)', 'Expires', 'Trusted', 'Type'],
      certificates.map((cert) => [cert.name, cert.commonNames.join(', '), cert.expiresAt, yesNo(cert.trusted), certificateType(cert)]),
    ),
  ].join('\n');
}

export function certificateView(cert: CertificateInfo): string {
  return [
    heading(`Certificate ${cert.name}`),
    keyValues([
      ['Common Name(s)', cert.commonNames.join(', ')],
      ['Starts At', cert.startsAt],
      ['Expires At', cert.expiresAt],
      ['Issuer', cert.issuer],
      ['Subject', cert.subject],
      ['Trusted', yesNo(cert.trusted)],
      ['Type', certificateType(cert)],
    ]),
  ].join('\n');
}

/** The policy, what it accepts, its AWS equivalent; the warning last, where it is read. */
export function tlsPolicyView(answer: TlsPolicyAnswer, changed = false): string {
  const title = changed ? `Set the TLS policy of ${answer.app} to ${answer.policy}` : `TLS policy of ${answer.app}: ${answer.policy}`;
  return [
    heading(title),
    '',
    keyValues([
      ['Protocols', answer.protocols.join(', ')],
      ['Ciphers', answer.ciphers.join(', ')],
      ['AWS', answer.elbSecurityPolicy],
      ['Changed', answer.changedAt ?? 'never (the default)'],
    ]),
    ...(changed ? ['', 'The edge applies it from the next TLS handshake.'] : []),
    ...(answer.warning ? ['', `WARNING: ${answer.warning}`] : []),
  ].join('\n');
}

export function databasesView(app: string, databases: Database[]): string {
  if (databases.length === 0) return `${app} has no databases.`;
  return [
    heading(`${app} databases`),
    '',
    table(
      ['Database', 'Hostname', 'Port'],
      databases.map((db) => [db.database, db.hostname, String(db.port)]),
    ),
    '',
    `Enhanced certificates (sslmode=verify-full): acm data:enhanced-certificates:enable DATABASE --app ${app}`,
  ].join('\n');
}

export function enhancedCertificatesEnabledView(app: string, status: DatabaseCertificateStatus): string {
  return [
    `Enabled enhanced certificates for database ${status.database} on ${app}: ${status.status}.`,
    '',
    keyValues([
      ['Connection URL', status.connectionUrl],
      ['Previous URL', status.previousConnectionUrl],
    ]),
    '',
    'The new URL (sslmode=verify-full) connects once the status is Cert Issued; the previous URL (sslmode=require) stays valid.',
    `Follow it: acm data:enhanced-certificates:status ${status.database} --app ${app}`,
  ].join('\n');
}

export function enhancedCertificatesDisabledView(app: string, body: DatabaseCertificateDisabled): string {
  return [
    `Disabled enhanced certificates for database ${body.database} on ${app}: it serves its platform-signed certificate again.`,
    '',
    `WARNING: ${body.warning}`,
  ].join('\n');
}

export function enhancedCertificateStatusView(app: string, status: DatabaseCertificateStatus, now: Date = new Date()): string {
  const pairs: Array<[string, string]> = [
    ['Status', status.status],
    ['Hostname', `${status.hostname}:${status.port}`],
    ...optional('Reason', reasonCell(status)),
    ['Last Updated', relativeTime(status.lastUpdated, now)],
    ...optional('Expires At', status.expiresAt),
    ...optional('Renews At', status.renewsAt),
    ...optional('Served Root', status.servedRoot),
    ...optional('Available Roots', status.availableRoots.join(', ')),
    // Disabled, only the sslmode=require URL connects.
    ['Connection URL', status.enabled ? status.connectionUrl : status.previousConnectionUrl],
    ...optional('Previous URL', status.enabled ? `${status.previousConnectionUrl} (stays valid)` : undefined),
  ];
  const enable = `For sslmode=verify-full: acm data:enhanced-certificates:enable ${status.database} --app ${app}`;
  const notes = [
    ...(status.message ? [status.message] : []),
    ...(!status.enabled
      ? [enable]
      : status.status !== 'Cert Issued'
        ? ['Until the status is Cert Issued, connect with the previous URL.']
        : []),
  ];
  const connections = status.sslConnections.map((c) => [c.datname, c.usename, c.clientAddr, c.version, c.cipher]);
  return [
    heading(`Enhanced certificates for database ${status.database} on ${app}`),
    keyValues(pairs),
    ...(notes.length ? ['', ...notes] : []),
    '',
    connections.length
      ? `SSL connections open now:\n\n${table(['Database', 'User', 'Client', 'Version', 'Cipher'], connections)}`
      : 'No SSL connections open now.',
  ].join('\n');
}

export function rootRotatedView(app: string, rotated: RootRotated): string {
  return [
    `Database ${rotated.database} on ${app} now serves its certificate's chain to ${rotated.servedRoot ?? 'its default root'}.`,
    '',
    `Note: ${rotated.guidance}`,
    `The bundle: acm data:enhanced-certificates:trust-bundle ${rotated.database} --app ${app} > trust-bundle.pem`,
  ].join('\n');
}

const optional = (key: string, value: string | undefined): Array<[string, string]> => (value ? [[key, value]] : []);
const yesNo = (value: boolean) => (value ? 'True' : 'False');
const certificateType = (cert: CertificateInfo) => (cert.managed ? 'ACM' : 'Uploaded');

/** How many terminal rows `text` takes, so a redraw can move back over it. */
export function terminalRows(text: string, columns: number | undefined): number {
  const width = columns && columns > 0 ? columns : Infinity;
  return text.split('\n').reduce((rows, line) => rows + Math.max(1, Math.ceil(line.length / width)), 0);
}

/** Belt and braces: nothing the CLI prints may carry a private key, whatever it was given. */
export function redactPrivateKeys(text: string): string {
  return text.replace(/-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?(-----END \1PRIVATE KEY-----|$)/g, '[private key redacted]');
}
