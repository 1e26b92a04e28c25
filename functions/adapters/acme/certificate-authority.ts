// The port to the certificate authority (ACME, RFC 8555): one short call per method;
// waiting and retrying belong to the state machine. Key and CSR handling sit behind it.
import type { AcmeProblem } from '../../domain/acme-problem.ts';
import type { ChallengeType, IssuedCertificate, Order } from '../../domain/events.ts';

export interface CreatedOrder extends Order {
  /** `valid` when the CA reuses an authorization it already holds: no challenge to answer. */
  authorizationStatus: string;
}

export interface AuthorizationState {
  status: string;
  /** The challenge's own status: only a `pending` one may be asked to validate. */
  challengeStatus: string;
  /** The challenge's error when the CA could not validate. */
  problem?: AcmeProblem;
}

/** A certificate fresh from the CA with the key it was requested with: the key goes straight to the certificate store. */
export interface Issuance {
  chainPem: string;
  /** The same certificate with chains to other roots (ACME `Link: rel="alternate"`), when the CA offers them and they were asked for. */
  alternateChainPems: string[];
  privateKeyPem: string;
  certificate: IssuedCertificate;
}

/** RFC 9773's answer for one certificate, with the CA's Retry-After for the next look. */
export interface RenewalInformation {
  window: { start: string; end: string };
  explanationUrl?: string;
  retryAfter?: string;
}

export interface CertificateAuthority {
  /** The URL of the account we order with, registered on first use. */
  accountUrl(): Promise<string>;
  /** An ARI renewal names the certificate it replaces (RFC 9773 §5). */
  createOrder(hostname: string, options?: { challengeType?: ChallengeType; replaces?: string }): Promise<CreatedOrder>;
  /** Refuses a configuration the CA cannot serve (a profile it does not offer), before any order. */
  checkConfiguration(): Promise<void>;
  /** The CA's renewal window for a certificate; undefined when the CA offers no ARI. Needs no account. */
  renewalInfo(ariId: string): Promise<RenewalInformation | undefined>;
  /** What the challenge must answer: the token bound to our account key (for DNS-01, its digest, the TXT value). */
  keyAuthorization(token: string, challengeType?: ChallengeType): Promise<string>;
  askToValidate(challengeUrl: string): Promise<void>;
  authorization(authorizationUrl: string, challengeType?: ChallengeType): Promise<AuthorizationState>;
  /**
   * Makes a key and a CSR for the name, finalizes the order with them and downloads the chain (leaf first);
   * `alternates`: the CA's other chains too (a database serves one of several roots; ACM takes one chain).
   */
  issue(orderUrl: string, hostname: string, options?: { alternates?: boolean }): Promise<Issuance>;
}

/** A CA answer that was a problem document, with its status and Retry-After. */
export class AcmeProblemError extends Error {
  constructor(
    readonly problem: AcmeProblem,
    readonly httpStatus: number,
    /** When the CA said to come back (Retry-After), as an ISO instant. */
    readonly retryAfter: string | undefined,
  ) {
    super(`${problem.type}: ${problem.detail ?? 'no detail'}`);
    this.name = 'AcmeProblemError';
  }
}

/** The CA did not answer with ACME at all: refused connection, a 5xx page, a broken directory. */
export class CaUnreachableError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'CaUnreachableError';
  }
}

/**
 * The order was already finalized, by an earlier run of the step whose private key
 * died with it: its certificate cannot be used. The try fails and the next one orders anew.
 */
export class OrderAlreadyFinalizedError extends Error {
  constructor(orderUrl: string, status: string) {
    super(`order ${orderUrl} is ${status}: an earlier run finalized it with a key that is gone; a new order follows`);
    this.name = 'OrderAlreadyFinalizedError';
  }
}

/** The CA does not know the order (or its authorization, or challenge) any more: it was reset on its side. */
export class OrderNotFoundError extends Error {
  constructor(readonly url: string) {
    super(`the certificate authority no longer knows ${url} (it was reset); a new order follows`);
    this.name = 'OrderNotFoundError';
  }
}

/** The configured ACME profile is not one the CA's directory lists. */
export class ProfileNotOfferedError extends Error {
  constructor(profile: string, offered: string[]) {
    super(
      `ACME_PROFILE=${profile} is not a profile this CA offers (${offered.length ? offered.join(', ') : 'it lists none'}): ` +
        "set one of those, or leave it unset for the CA's default",
    );
    this.name = 'ProfileNotOfferedError';
  }
}
