// The app's stream (automation on or off, its domains, its uploaded certificates) and
// the hostname claims that keep a hostname on one app at a time. Deciders like the
// domain's: decide(command, state) -> events, evolve(state, event) -> state.
import { streamIds, type AppEvent, type ClaimEvent } from './events.ts';
import {
  expiryNoticeDue,
  keepNotice,
  nextExpiryNoticeAt,
  notificationIds,
  UPLOADED_EXPIRY_THRESHOLDS_DAYS,
  type SentNotice,
} from './notices.ts';
import { DEFAULT_TLS_POLICY, tlsPolicySetting, type TlsPolicyName, type TlsPolicySetting } from './tls-policy.ts';
import type { CertificateInfo } from './uploaded-certificate.ts';
import { ConflictError, NotFoundError } from './errors.ts';

export const MAX_DOMAINS_PER_APP = 100;

export interface UploadedCertificate {
  certificateArn: string;
  info: CertificateInfo;
}

export interface AppState {
  version: number;
  /** Automated certificates: on unless turned off, by request or by an upload. */
  acmEnabled: boolean;
  domains: string[];
  /** The app's Postgres databases, by name. */
  databases: Record<string, { hostname: string; port: number }>;
  uploads: Record<string, UploadedCertificate>;
  /** Expiry thresholds (days) owners were told of, per uploaded certificate; a replacement starts afresh. */
  uploadNotices: Record<string, number[]>;
  /** What owners were told about their uploads, latest last. */
  notices: SentNotice[];
  /** What the edge applies to the app's domains. */
  tlsPolicy: TlsPolicyName;
  /** When the owner last changed it, and at which version of the app's stream; absent while it is the default. */
  tlsPolicyChanged?: { at: string; version: number };
  deleted: boolean;
}

export const initialAppState: AppState = {
  version: 0,
  acmEnabled: true,
  domains: [],
  databases: {},
  uploads: {},
  uploadNotices: {},
  notices: [],
  tlsPolicy: DEFAULT_TLS_POLICY,
  deleted: false,
};

export type AppCommand =
  | { type: 'AttachDomain'; hostname: string }
  | { type: 'DetachDomain'; hostname: string }
  | { type: 'AttachDatabase'; database: string; hostname: string; port: number }
  | { type: 'DetachDatabase'; database: string }
  | { type: 'EnableAcm' }
  | { type: 'DisableAcm' }
  | { type: 'UploadCertificate'; certificate: UploadedCertificate }
  | { type: 'ReplaceCertificate'; certificate: UploadedCertificate }
  | { type: 'RemoveUploadedCertificate'; name: string }
  /** The sweep's question: is an uploaded certificate close to expiry? */
  | { type: 'NotifyIfUploadsExpiring'; app: string; now: Date }
  | { type: 'SetTlsPolicy'; policy: TlsPolicyName }
  | { type: 'DeleteApp' };

export function decideApp(command: AppCommand, state: AppState): AppEvent[] {
  // A deleted app takes nothing more: a late domain or upload must not bring it back.
  if (state.deleted && command.type !== 'DeleteApp') throw new NotFoundError('the app was deleted');
  switch (command.type) {
    case 'AttachDomain':
      if (state.domains.includes(command.hostname)) return [];
      if (state.domains.length >= MAX_DOMAINS_PER_APP) {
        throw new ConflictError(`hostname: an app has at most ${MAX_DOMAINS_PER_APP} custom domains; remove one first`);
      }
      return [{ type: 'DomainAttached', data: { hostname: command.hostname } }];
    case 'DetachDomain':
      return state.domains.includes(command.hostname) ? [{ type: 'DomainDetached', data: { hostname: command.hostname } }] : [];
    case 'AttachDatabase': {
      const { type: _type, ...database } = command;
      return state.databases[database.database] ? [] : [{ type: 'DatabaseAttached', data: database }];
    }
    case 'DetachDatabase':
      return state.databases[command.database] ? [{ type: 'DatabaseDetached', data: { database: command.database } }] : [];
    case 'EnableAcm':
      // An app seen for the first time records it, so the app exists from then on.
      return state.acmEnabled && state.version > 0 ? [] : [{ type: 'AcmEnabled', data: {} }];
    case 'DisableAcm':
      return state.acmEnabled ? [{ type: 'AcmDisabled', data: { because: 'requested' } }] : [];
    case 'UploadCertificate':
      // Uploading a certificate hands TLS to the owner: automation goes off.
      return [
        { type: 'CertificateUploaded', data: command.certificate },
        ...(state.acmEnabled ? [{ type: 'AcmDisabled', data: { because: 'certificate-uploaded' } } as const] : []),
      ];
    case 'ReplaceCertificate':
      requireUpload(state, command.certificate.info.name);
      return [{ type: 'CertificateReplaced', data: command.certificate }];
    case 'RemoveUploadedCertificate': {
      const upload = requireUpload(state, command.name);
      return [
        { type: 'UploadedCertificateRemoved', data: { name: command.name, certificateArn: upload.certificateArn } },
        ...(state.acmEnabled ? [{ type: 'AcmDisabled', data: { because: 'certificate-removed' } } as const] : []),
      ];
    }
    case 'NotifyIfUploadsExpiring':
      return Object.entries(state.uploads).flatMap(([name, { certificateArn, info }]) => {
        const due = expiryNoticeDue(info.expiresAt, state.uploadNotices[name] ?? [], UPLOADED_EXPIRY_THRESHOLDS_DAYS, command.now);
        if (!due) return [];
        const notificationId = notificationIds.expiring(streamIds.app(command.app), certificateArn, due.threshold);
        return [{ type: 'UploadExpiryNoticeSent', data: { notificationId, name, certificateArn, expiresAt: info.expiresAt, ...due } }];
      });
    case 'SetTlsPolicy':
      return state.tlsPolicy === command.policy
        ? []
        : [{ type: 'TlsPolicyChanged', data: { policy: command.policy, previous: state.tlsPolicy } }];
    case 'DeleteApp':
      return state.deleted ? [] : [{ type: 'AppDeleted', data: {} }];
  }
}

/** When the sweep must next look at the app: the soonest expiry notice of its uploads. */
export function appDueAt(state: AppState): string | undefined {
  const times = Object.entries(state.uploads).flatMap(([name, { info }]) => {
    const at = nextExpiryNoticeAt(info.expiresAt, state.uploadNotices[name] ?? [], UPLOADED_EXPIRY_THRESHOLDS_DAYS);
    return at ? [Date.parse(at)] : [];
  });
  return times.length > 0 ? new Date(Math.min(...times)).toISOString() : undefined;
}

/** The app's own row in the status projection: what its status and operators' list show. */
export function appRow(app: string, state: AppState) {
  return { app, acmEnabled: state.acmEnabled, domains: state.domains, tlsPolicy: appTlsPolicy(state), notices: state.notices };
}

/** The app's TLS policy as it is published: on the API, on the app's status, to the edge. */
export function appTlsPolicy(state: AppState): TlsPolicySetting {
  return tlsPolicySetting(state.tlsPolicy, state.tlsPolicyChanged?.at);
}

function requireUpload(state: AppState, name: string): UploadedCertificate {
  const upload = state.uploads[name];
  if (!upload) throw new NotFoundError(`certificate ${name} not found`);
  return upload;
}

export function evolveApp(state: AppState, event: AppEvent & { at?: string }): AppState {
  const next = { ...state, version: state.version + 1 };
  switch (event.type) {
    case 'AcmEnabled':
      return { ...next, acmEnabled: true };
    case 'AcmDisabled':
      return { ...next, acmEnabled: false };
    case 'DomainAttached':
      return { ...next, domains: [...state.domains, event.data.hostname] };
    case 'DomainDetached':
      return { ...next, domains: state.domains.filter((hostname) => hostname !== event.data.hostname) };
    case 'DatabaseAttached': {
      const { database, ...where } = event.data;
      return { ...next, databases: { ...state.databases, [database]: where } };
    }
    case 'DatabaseDetached': {
      const { [event.data.database]: _removed, ...databases } = state.databases;
      return { ...next, databases };
    }
    case 'CertificateUploaded':
    case 'CertificateReplaced': {
      const { [event.data.info.name]: _told, ...uploadNotices } = state.uploadNotices;
      return { ...next, uploads: { ...state.uploads, [event.data.info.name]: event.data }, uploadNotices };
    }
    case 'UploadedCertificateRemoved': {
      const { [event.data.name]: _removed, ...uploads } = state.uploads;
      const { [event.data.name]: _told, ...uploadNotices } = state.uploadNotices;
      return { ...next, uploads, uploadNotices };
    }
    case 'UploadExpiryNoticeSent': {
      const { notificationId, name, threshold, daysLeft, expiresAt } = event.data;
      const notice: SentNotice = {
        notificationId,
        type: 'CertificateExpiring',
        sentAt: event.at ?? '',
        threshold,
        daysLeft,
        expiresAt,
        certificateName: name,
      };
      const uploadNotices = { ...state.uploadNotices, [name]: [...(state.uploadNotices[name] ?? []), threshold] };
      return { ...next, uploadNotices, notices: keepNotice(state.notices, notice) };
    }
    case 'TlsPolicyChanged':
      return { ...next, tlsPolicy: event.data.policy, tlsPolicyChanged: { at: event.at ?? '', version: next.version } };
    case 'AppDeleted':
      return { ...initialAppState, version: next.version, deleted: true };
  }
}

export function foldApp(events: Iterable<AppEvent & { at?: string }>): AppState {
  let state = initialAppState;
  for (const event of events) state = evolveApp(state, event);
  return state;
}

/** Who holds a hostname: one app at a time. */
export interface ClaimState {
  version: number;
  owner?: string;
}

export function decideClaim(command: { type: 'Claim' | 'Release'; app: string; hostname: string }, state: ClaimState): ClaimEvent[] {
  if (command.type === 'Release') return state.owner === command.app ? [{ type: 'HostnameReleased', data: { app: command.app } }] : [];
  if (state.owner === command.app) return [];
  if (state.owner) throw new ConflictError(`hostname: ${command.hostname} is already a domain of another app`);
  return [{ type: 'HostnameClaimed', data: { app: command.app } }];
}

export function foldClaim(events: Iterable<ClaimEvent>): ClaimState {
  let state: ClaimState = { version: 0 };
  for (const event of events) {
    state = { version: state.version + 1, ...(event.type === 'HostnameClaimed' && { owner: event.data.app }) };
  }
  return state;
}
