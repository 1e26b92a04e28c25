// The certificate authority, over ACME (RFC 8555) with acme-client. Each method is
// one short call: waiting and retrying belong to the state machine, not to a Lambda.
import https from 'node:https';
import tls from 'node:tls';
import acme from 'acme-client';
import { ACME_ERROR_PREFIX, type AcmeProblem } from '../../domain/acme-problem.ts';
import { AcmeProblemError, CaUnreachableError, OrderAlreadyFinalizedError } from './acme-problem-error.ts';

export interface AcmeSettings {
  directoryUrl: string;
  accountKeyPem: string;
  /** A CA to trust for the directory's own TLS (the local Pebble's generated one). */
  directoryTlsCaPem?: string;
  /** acme-client's poll backoff while an order is processing; its 5 s default suits production only. */
  pollMinMs: number;
}

export interface CreatedOrder {
  orderUrl: string;
  authorizationUrl: string;
  challengeUrl: string;
  token: string;
  /** `valid` when the CA reuses an authorization it already holds: no challenge to answer. */
  authorizationStatus: string;
}

export interface AuthorizationState {
  status: string;
  /** The http-01 challenge's own status: only a `pending` one may be asked to validate. */
  challengeStatus: string;
  /** The challenge's error when the CA could not validate. */
  problem?: AcmeProblem;
}

export class AcmeCertificateAuthority {
  private readonly client: acme.Client;
  private account: Promise<unknown> | undefined;

  constructor(settings: AcmeSettings) {
    installHttpBehaviour(settings.directoryTlsCaPem);
    this.client = new acme.Client({
      directoryUrl: settings.directoryUrl,
      accountKey: settings.accountKeyPem,
      backoffMin: settings.pollMinMs,
      backoffMax: settings.pollMinMs * 10,
      backoffAttempts: 20,
    });
  }

  createOrder(hostname: string): Promise<CreatedOrder> {
    return this.call(async () => {
      await this.ensureAccount();
      const order = await this.client.createOrder({ identifiers: [{ type: 'dns', value: hostname }] });
      const [authorization] = await this.client.getAuthorizations(order);
      const challenge = authorization?.challenges.find((candidate) => candidate.type === 'http-01');
      if (!authorization || !challenge) throw new Error(`the CA offered no http-01 challenge for ${hostname}`);
      return {
        orderUrl: order.url,
        authorizationUrl: authorization.url,
        challengeUrl: challenge.url,
        token: challenge.token,
        authorizationStatus: authorization.status,
      };
    });
  }

  /** What the challenge URL must answer: the token bound to our account key. */
  keyAuthorization(token: string): Promise<string> {
    return this.client.getChallengeKeyAuthorization({ type: 'http-01', token, url: '', status: 'pending' });
  }

  askToValidate(challengeUrl: string): Promise<void> {
    return this.call(async () => {
      await this.ensureAccount();
      await this.client.completeChallenge({ type: 'http-01', url: challengeUrl, token: '', status: 'pending' });
    });
  }

  authorization(authorizationUrl: string): Promise<AuthorizationState> {
    return this.call(async () => {
      await this.ensureAccount();
      const [authorization] = await this.client.getAuthorizations({ authorizations: [authorizationUrl] } as acme.Order);
      if (!authorization) throw new Error(`authorization ${authorizationUrl} not found`);
      const challenge = authorization.challenges.find((candidate) => candidate.type === 'http-01');
      const failed = authorization.challenges.find((candidate) => candidate.error);
      return {
        status: authorization.status,
        challengeStatus: challenge?.status ?? 'missing',
        ...(failed?.error && { problem: failed.error as AcmeProblem }),
      };
    });
  }

  /** Finalizes with the CSR and downloads the chain (leaf first). */
  finalize(orderUrl: string, csrPem: string): Promise<string> {
    return this.call(async () => {
      await this.ensureAccount();
      let order = await this.client.getOrder({ url: orderUrl } as acme.Order);
      if (order.status !== 'ready') throw new OrderAlreadyFinalizedError(orderUrl, order.status);
      order = await this.client.finalizeOrder(order, csrPem);
      if (order.status !== 'valid') order = await this.client.waitForValidStatus(order);
      return this.client.getCertificate(order);
    });
  }

  /** Every failure is either the CA's problem document or the CA being unreachable. */
  private async call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw error instanceof AcmeProblemError || error instanceof OrderAlreadyFinalizedError ? error : new CaUnreachableError(error);
    }
  }

  private async ensureAccount(): Promise<void> {
    // Registering an existing key returns the existing account: safe on every cold start.
    this.account ??= this.client.createAccount({ termsOfServiceAgreed: true }).catch((error: unknown) => {
      this.account = undefined;
      throw error;
    });
    await this.account;
  }
}

let installed = false;

/** acme-client's shared axios instance: configured once per process. */
function installHttpBehaviour(directoryTlsCaPem: string | undefined): void {
  if (directoryTlsCaPem) {
    acme.axios.defaults.httpsAgent = new https.Agent({ ca: [...tls.rootCertificates, directoryTlsCaPem], keepAlive: true });
  }
  if (installed) return;
  installed = true;
  // acme-client would sleep through Retry-After itself; the state machine waits instead.
  (acme.axios.defaults as unknown as { acmeSettings: { retryMaxAttempts: number } }).acmeSettings.retryMaxAttempts = 0;
  acme.axios.interceptors.response.use((response) => {
    const contentType = String(response.headers['content-type'] ?? '');
    const body = response.data as Partial<AcmeProblem> | undefined;
    // badNonce is retried by acme-client itself; let it through.
    if (contentType.includes('application/problem+json') && body?.type && body.type !== `${ACME_ERROR_PREFIX}badNonce`) {
      throw new AcmeProblemError(body as AcmeProblem, response.status, retryAfterInstant(response.headers['retry-after']));
    }
    return response;
  });
}

function retryAfterInstant(header: unknown): string | undefined {
  if (typeof header !== 'string' || header === '') return undefined;
  const seconds = Number(header);
  const at = Number.isFinite(seconds) ? Date.now() + seconds * 1000 : Date.parse(header);
  return Number.isNaN(at) ? undefined : new Date(at).toISOString();
}
