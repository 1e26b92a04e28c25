// API bearer tokens: claims signed with HMAC-SHA256 under a secret the service keeps
// (Secrets Manager in AWS, generated at start locally). A token names the apps it may
// act on, or carries operator scope over all of them.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface TokenClaims {
  /** Who holds it, for logs: "operator", "ci-deploy", ... */
  sub: string;
  /** The apps it may act on; "*" for operators. */
  apps: string[] | '*';
}

const PREFIX = 'acm1';

export function signToken(claims: TokenClaims, secret: string): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${PREFIX}.${payload}.${signature(payload, secret)}`;
}

/** The claims of a well-formed token signed with `secret`; undefined for anything else. */
export function verifyToken(token: string, secret: string): TokenClaims | undefined {
  const [prefix, payload, given] = token.split('.');
  if (prefix !== PREFIX || !payload || !given) return undefined;
  const expected = Buffer.from(signature(payload, secret));
  const actual = Buffer.from(given);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TokenClaims;
    const appsValid = claims.apps === '*' || (Array.isArray(claims.apps) && claims.apps.every((app) => typeof app === 'string'));
    return typeof claims.sub === 'string' && appsValid ? claims : undefined;
  } catch {
    return undefined;
  }
}

export function mayActOn(claims: Pick<TokenClaims, 'apps'>, app: string): boolean {
  return claims.apps === '*' || claims.apps.includes(app);
}

function signature(payload: string, secret: string): string {
  return createHmac('sha256', secret).update(`${PREFIX}.${payload}`).digest('base64url');
}
