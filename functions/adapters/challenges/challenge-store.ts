/** The port: HTTP-01 answers (token -> key authorization) that the edge serves for /.well-known/acme-challenge/<token>. */
export interface ChallengeStore {
  publish(token: string, keyAuthorization: string, now: Date): Promise<void>;
  /** The answer while it lives; undefined for an unknown or expired token. */
  answer(token: string, now: Date): Promise<string | undefined>;
}
