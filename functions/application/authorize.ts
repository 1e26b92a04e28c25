// Who may call the API: a bearer token signed with the service's secret, scoped to apps.
import { verifyToken, type TokenClaims } from '../domain/tokens.ts';
import type { Ports } from './ports.ts';

/** The token's claims, or undefined for anything not signed with our secret. */
export async function authorize(ports: Pick<Ports, 'apiTokenSecret'>, bearer: string): Promise<TokenClaims | undefined> {
  return verifyToken(bearer.replace(/^Bearer\s+/i, ''), await ports.apiTokenSecret.value());
}
