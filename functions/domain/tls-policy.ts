// The TLS policies an app chooses from, what each means today, and the Elastic Load
// Balancing security policy that says the same in AWS. The platform's three names stay;
// their meaning moved on with RFC 8996 (TLS 1.0 and 1.1 deprecated). One table: the API,
// the local router and the event for the edge all read it.

export const TLS_POLICY_NAMES = ['modern', 'default', 'legacy'] as const;
export type TlsPolicyName = (typeof TLS_POLICY_NAMES)[number];

/** What an app has until its owner chooses. */
export const DEFAULT_TLS_POLICY: TlsPolicyName = 'default';

/** Oldest first; a policy allows a contiguous range of them. Node's and OpenSSL's names. */
export const TLS_PROTOCOLS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
export type TlsProtocol = (typeof TLS_PROTOCOLS)[number];

export interface TlsPolicy {
  policy: TlsPolicyName;
  /** Oldest first. */
  protocols: TlsProtocol[];
  /** In the order the server prefers them; TLS 1.3 suites by their IANA names, the others by OpenSSL's (as ELB lists them). */
  ciphers: string[];
  /** The security policy an AWS load balancer's HTTPS listener gets for this app. */
  elbSecurityPolicy: string;
  /** Said with every answer about a policy that lets weak clients in. */
  warning?: string;
}

const TLS13_CIPHERS = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];
/** TLS 1.2: AEAD (AES-GCM) with forward secrecy (ECDHE) only. */
const TLS12_AEAD_FS_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
];
/** What clients of TLS 1.0 to 1.2 without AEAD or forward secrecy can speak: ELBSecurityPolicy-TLS13-1-0-2021-06's list. */
const LEGACY_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES128-SHA256',
  'ECDHE-RSA-AES128-SHA256',
  'ECDHE-ECDSA-AES128-SHA',
  'ECDHE-RSA-AES128-SHA',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-AES256-SHA384',
  'ECDHE-RSA-AES256-SHA384',
  'ECDHE-ECDSA-AES256-SHA',
  'ECDHE-RSA-AES256-SHA',
  'AES128-GCM-SHA256',
  'AES128-SHA256',
  'AES128-SHA',
  'AES256-GCM-SHA384',
  'AES256-SHA256',
  'AES256-SHA',
];

export const LEGACY_TLS_WARNING =
  'legacy accepts TLS 1.0 and 1.1, deprecated since 2021 (RFC 8996), and ciphers without forward secrecy: ' +
  'use it only while clients that cannot speak TLS 1.2 still need the app, then go back to default (acm tls:set default)';

export const TLS_POLICIES: Record<TlsPolicyName, TlsPolicy> = {
  modern: {
    policy: 'modern',
    protocols: ['TLSv1.3'],
    ciphers: TLS13_CIPHERS,
    elbSecurityPolicy: 'ELBSecurityPolicy-TLS13-1-3-PQ-2025-09',
  },
  default: {
    policy: 'default',
    protocols: ['TLSv1.2', 'TLSv1.3'],
    ciphers: [...TLS13_CIPHERS, ...TLS12_AEAD_FS_CIPHERS],
    elbSecurityPolicy: 'ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09',
  },
  legacy: {
    policy: 'legacy',
    protocols: ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'],
    ciphers: [...TLS13_CIPHERS, ...LEGACY_CIPHERS],
    elbSecurityPolicy: 'ELBSecurityPolicy-TLS13-1-0-2021-06',
    warning: LEGACY_TLS_WARNING,
  },
};

export function isTlsPolicyName(value: unknown): value is TlsPolicyName {
  return typeof value === 'string' && (TLS_POLICY_NAMES as readonly string[]).includes(value);
}

/** The rule a bad policy breaks, as a 400 says it. */
export const TLS_POLICY_RULE = `must be one of ${TLS_POLICY_NAMES.join(', ')}`;

/** An app's policy as the API, the status and the edge's event publish it: the name, what it allows, and since when. */
export interface TlsPolicySetting extends TlsPolicy {
  /** When the owner last changed it; absent while the app has the default it started with. */
  changedAt?: string;
}

export function tlsPolicySetting(policy: TlsPolicyName, changedAt?: string): TlsPolicySetting {
  return { ...TLS_POLICIES[policy], ...(changedAt && { changedAt }) };
}

/** The id of the edge's event for the change recorded at `version` of the app's stream: a repeat has the same id. */
export const tlsPolicyChangeId = (app: string, version: number) => `tls-policy#${app}#${version}`;
