/** The port: a secret value that lives outside the code (Secrets Manager in AWS; given to the local cloud). */
export interface Secret {
  value(): Promise<string>;
}
