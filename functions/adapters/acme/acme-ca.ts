// The certificate authority over ACME with acme-client: the CertificateAuthority port.
// acme-client's plain Errors lose the problem document, so an axios interceptor raises typed ones.
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import tls from 'node:tls';
import * as x509 from '@peculiar/x509';
import { ACME_ERROR_PREFIX, type AcmeProblem } from '../../domain/acme-problem.ts';
import type { ChallengeType, IssuedCertificate } from '../../domain/events.ts';
import { ariCertificateId } from '../../domain/renewal.ts';
import type { AccountKeyStore } from './account-key.ts';
import * as acme from './acme-client.ts';
import {
  AcmeProblemError,
  CaUnreachableError,
  OrderAlreadyFinalizedError,
  OrderNotFoundError,
  ProfileNotOfferedError,
  type AuthorizationState,
  type CertificateAuthority,
  type CreatedOrder,
  type Issuance,
  type RenewalInformation,
} from './certificate-authority.ts';

export interface AcmeSettings {
  directoryUrl: string;
  /** Read on first use: a cold start that never talks to the CA never fetches the secret. */
  accountKey: AccountKeyStore;
  /** A CA to trust for the directory's own TLS (the local Pebble's generated one). */
  directoryTlsCaPem?: string;
  /** acme-client's poll backoff while an order is processing; its 5 s default suits production only. */
  pollMinMs: number;
  /** The CA's profile to order (`classic`, `tlsserver`, `shortlived` at Let's Encrypt); the CA's default when unset. */
  profile?: string;
}

export class AcmeCertificateAuthority implements CertificateAuthority {
  private client: Promise<acme.Client> | undefined;
  private directoryDocument: Promise<Record<string, unknown>> | undefined;
  private account: Promise<unknown> | undefined;

  constructor(private readonly settings: AcmeSettings) {
    installHttpBehaviour(settings.directoryTlsCaPem);
  }

  accountUrl(): Promise<string> {
    return this.call(undefined, async (client) => client.getAccountUrl());
  }

  createOrder(hostname: string, options: { challengeType?: ChallengeType; replaces?: string } = {}): Promise<CreatedOrder> {
    const { challengeType = 'http-01', replaces } = options;
    return this.call(undefined, async (client) => {
      // acme-client passes fields it does not know through to newOrder.
      const profile = await this.offeredProfile();
      const request = {
        identifiers: [{ type: 'dns', value: hostname }],
        ...(replaces && { replaces }),
        ...(profile && { profile }),
      } as acme.Order;
      const order = await client.createOrder(request);
      const [authorization] = await client.getAuthorizations(order);
      const challenge = authorization?.challenges.find((candidate) => candidate.type === challengeType);
      if (!authorization || !challenge) throw new Error(`the CA offered no ${challengeType} challenge for ${hostname}`);
      return {
        orderUrl: order.url,
        authorizationUrl: authorization.url,
        challengeUrl: challenge.url,
        token: challenge.token,
        ...(challengeType !== 'http-01' && { challengeType }),
        authorizationStatus: authorization.status,
      };
    });
  }

  async renewalInfo(ariId: string): Promise<RenewalInformation | undefined> {
    try {
      const base = (await this.directory()).renewalInfo;
      if (typeof base !== 'string') return undefined;
      const { data, headers } = await acme.axios.get(`${base.replace(/\/$/, '')}/${ariId}`);
      const window = (data as { suggestedWindow?: { start?: string; end?: string } }).suggestedWindow;
      if (!window?.start || !window.end) throw new Error(`the CA's renewal information for ${ariId} has no suggestedWindow`);
      const explanationUrl = (data as { explanationURL?: unknown }).explanationURL;
      const retryAfter = retryAfterInstant(headers['retry-after']);
      return {
        window: { start: new Date(window.start).toISOString(), end: new Date(window.end).toISOString() },
        ...(typeof explanationUrl === 'string' && { explanationUrl }),
        ...(retryAfter && { retryAfter }),
      };
    } catch (error) {
      // A certificate the CA does not know (another CA's, or one issued before a CA-side reset) has no window: the fixed rule stands.
      if ((error as { response?: { status?: number } }).response?.status === 404) return undefined;
      throw error instanceof AcmeProblemError ? error : new CaUnreachableError(error);
    }
  }

  async checkConfiguration(): Promise<void> {
    await this.offeredProfile();
  }

  /** The configured profile, once the directory's `meta.profiles` lists it. */
  private async offeredProfile(): Promise<string | undefined> {
    const { profile } = this.settings;
    if (!profile) return undefined;
    let directory: Record<string, unknown>;
    try {
      directory = await this.directory();
    } catch (error) {
      throw new CaUnreachableError(error);
    }
    const offered = Object.keys(((directory.meta as { profiles?: Record<string, unknown> } | undefined)?.profiles ?? {}) as object);
    if (!offered.includes(profile)) throw new ProfileNotOfferedError(profile, offered);
    return profile;
  }

  /** The directory, read once: its `renewalInfo` entry says whether the CA offers ARI. */
  private directory(): Promise<Record<string, unknown>> {
    this.directoryDocument ??= acme.axios.get(this.settings.directoryUrl).then(
      ({ data }) => data as Record<string, unknown>,
      (error: unknown) => {
        this.directoryDocument = undefined;
        throw error;
      },
    );
    return this.directoryDocument;
  }

  async keyAuthorization(token: string, challengeType: ChallengeType = 'http-01'): Promise<string> {
    return (await this.acmeClient()).getChallengeKeyAuthorization({ type: challengeType, token, url: '', status: 'pending' });
  }

  askToValidate(challengeUrl: string): Promise<void> {
    return this.call(challengeUrl, async (client) => {
      await client.completeChallenge({ type: 'http-01', url: challengeUrl, token: '', status: 'pending' });
    });
  }

  authorization(authorizationUrl: string, challengeType: ChallengeType = 'http-01'): Promise<AuthorizationState> {
    return this.call(authorizationUrl, async (client) => {
      const [authorization] = await client.getAuthorizations({ authorizations: [authorizationUrl] } as acme.Order);
      if (!authorization) throw new Error(`authorization ${authorizationUrl} not found`);
      const challenge = authorization.challenges.find((candidate) => candidate.type === challengeType);
      const failed = authorization.challenges.find((candidate) => candidate.error);
      return {
        status: authorization.status,
        challengeStatus: challenge?.status ?? 'missing',
        ...(failed?.error && { problem: failed.error as AcmeProblem }),
      };
    });
  }

  issue(orderUrl: string, hostname: string, { alternates = false }: { alternates?: boolean } = {}): Promise<Issuance> {
    return this.call(orderUrl, async (client) => {
      let order = await client.getOrder({ url: orderUrl } as acme.Order);
      if (order.status !== 'ready') throw new OrderAlreadyFinalizedError(orderUrl, order.status);
      const [privateKey, csr] = await acme.crypto.createCsr(
        { commonName: hostname, altNames: [hostname] },
        await acme.crypto.createPrivateEcdsaKey('P-256'),
      );
      order = await client.finalizeOrder(order, csr);
      if (order.status !== 'valid') order = await client.waitForValidStatus(order);
      const { chainPem, alternateChainPems } = await downloadChains(client, order, alternates);
      return { chainPem, alternateChainPems, privateKeyPem: privateKey.toString(), certificate: describeLeaf(chainPem) };
    });
  }

  /**
   * Every failure is either the CA's problem document or the CA being unreachable; a 404 about
   * `orderScoped` (an order, authorization or challenge URL we recorded) is the CA having forgotten it.
   */
  private async call<T>(orderScoped: string | undefined, operation: (client: acme.Client) => Promise<T>): Promise<T> {
    // Outside the try: an account key that cannot be read is our fault, not the CA being down.
    const client = await this.acmeClient();
    try {
      await this.ensureAccount(client);
      return await operation(client);
    } catch (error) {
      if (orderScoped && error instanceof AcmeProblemError && error.httpStatus === 404) throw new OrderNotFoundError(orderScoped);
      const ours =
        error instanceof AcmeProblemError || error instanceof OrderAlreadyFinalizedError || error instanceof ProfileNotOfferedError;
      throw ours ? error : new CaUnreachableError(error);
    }
  }

  private acmeClient(): Promise<acme.Client> {
    const { directoryUrl, accountKey, pollMinMs } = this.settings;
    this.client ??= accountKey.load().then(
      (accountKeyPem) =>
        new acme.Client({
          directoryUrl,
          accountKey: accountKeyPem,
          backoffMin: pollMinMs,
          backoffMax: pollMinMs * 10,
          backoffAttempts: 20,
        }),
      (error: unknown) => {
        this.client = undefined;
        throw error;
      },
    );
    return this.client;
  }

  private async ensureAccount(client: acme.Client): Promise<void> {
    // Every cold start of every step Lambda gets here with the one account key. Look the account up
    // first (newAccount with onlyReturnExisting, then a POST-as-GET): registering an existing key
    // again makes acme-client send an update with only termsOfServiceAgreed, which Pebble refuses as
    // an empty update. Register only a key the CA does not know.
    this.account ??= client
      .createAccount({ onlyReturnExisting: true })
      .catch((error: unknown) => {
        if (error instanceof AcmeProblemError && error.problem.type === `${ACME_ERROR_PREFIX}accountDoesNotExist`) {
          return client.createAccount({ termsOfServiceAgreed: true });
        }
        throw error;
      })
      .catch((error: unknown) => {
        this.account = undefined;
        throw error;
      });
    await this.account;
  }
}

/**
 * The default chain and the alternates its `Link: rel="alternate"` headers name (RFC 8555 §7.4.2).
 * acme-client only picks one chain by issuer name; a database needs every one, to rotate between them.
 */
async function downloadChains(
  client: acme.Client,
  order: acme.Order,
  withAlternates: boolean,
): Promise<{ chainPem: string; alternateChainPems: string[] }> {
  type Answer = { headers: Record<string, unknown>; data: unknown };
  const api = (client as unknown as { api: { apiRequest(url: string, payload: null, statuses: number[]): Promise<Answer> } }).api;
  const download = (url: string) => api.apiRequest(url, null, [200]);
  const answer = await download(order.certificate!);
  if (!withAlternates) return { chainPem: String(answer.data), alternateChainPems: [] };
  const links = [answer.headers.link ?? []].flat().map(String);
  const alternates = links
    .flatMap((header) => header.split(/,(?=\s*<)/))
    .map((link) => /^\s*<([^>]+)>\s*;.*rel="?alternate"?/.exec(link)?.[1])
    .filter((url): url is string => url !== undefined);
  const alternateChainPems = await Promise.all(alternates.map(async (url) => String((await download(url)).data)));
  return { chainPem: String(answer.data), alternateChainPems };
}

function describeLeaf(chainPem: string): IssuedCertificate {
  const [leafPem] = acme.crypto.splitPemChain(chainPem);
  if (!leafPem) throw new Error('the CA returned an empty certificate chain');
  const { notBefore, notAfter } = acme.crypto.readCertificateInfo(leafPem);
  const leaf = new X509Certificate(leafPem);
  const ariId = ariIdOf(leafPem);
  return {
    serialNumber: leaf.serialNumber,
    issuer: leaf.issuer,
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    fingerprint256: leaf.fingerprint256,
    ...(ariId && { ariId }),
  };
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
    // Pebble answers a URL it does not know (after a restart) with a bare 404, no problem document.
    if (response.status === 404) {
      throw new AcmeProblemError(
        { type: `${ACME_ERROR_PREFIX}malformed`, detail: `${response.config.url} is not known`, status: 404 },
        404,
        undefined,
      );
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

/** The leaf's ARI identifier, from its authority key identifier and serial; undefined without an AKI. */
export function ariIdOf(leafPem: string): string | undefined {
  const leaf = new x509.X509Certificate(leafPem);
  const keyId = leaf.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
  return keyId ? ariCertificateId(keyId, leaf.serialNumber) : undefined;
}
