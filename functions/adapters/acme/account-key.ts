// The ACME account key is a secret: Secrets Manager in AWS, a 0600 file locally.
// Either is created on first use; the key itself is never logged.
//
// Concurrent first uses (cold starts of several step Lambdas, or of several local
// handlers) must end with one account: whoever writes first wins, and every loser
// goes on with the winner's key. Both stores do it with a write that cannot
// replace what another writer stored, then read what is stored.
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { randomUUID } from 'node:crypto';
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { crypto as acmeCrypto } from './acme-client.ts';

export interface AccountKeyStore {
  load(): Promise<string>;
}

async function newAccountKey(): Promise<string> {
  return (await acmeCrypto.createPrivateEcdsaKey('P-256')).toString();
}

const isAccountKey = (value: string | undefined): value is string => value?.includes('PRIVATE KEY') ?? false;

/**
 * The version id every writer gives the first key it stores (PutSecretValue's
 * `ClientRequestToken`, 32 to 64 characters, becomes the new version's `VersionId`).
 * Secrets Manager documents three outcomes for a token:
 * - no version has it: a new version is created with our value, labelled AWSCURRENT;
 * - a version has it with the same value: the request is ignored (a retried call);
 * - a version has it with another value: `ResourceExistsException`, since a version
 *   can never be changed.
 * So of racing first writers, each with its own fresh key, exactly one creates the
 * version; every other one gets `ResourceExistsException` and reads that version by
 * its id (not AWSCURRENT, which something else could move). Nothing else ever writes
 * this version id, so reading it returns the winner's key.
 */
export const FIRST_ACCOUNT_KEY_VERSION = 'acme-account-key-first-version-000001';

export class SecretsManagerAccountKey implements AccountKeyStore {
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
  ) {}

  async load(): Promise<string> {
    // The stack creates the secret with a generated password (CDK's default), not a
    // key; an operator may also have stored an existing account's key as AWSCURRENT.
    const current = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
    if (isAccountKey(current.SecretString)) return current.SecretString;
    const key = await newAccountKey();
    try {
      await this.client.send(
        new PutSecretValueCommand({ SecretId: this.secretId, ClientRequestToken: FIRST_ACCOUNT_KEY_VERSION, SecretString: key }),
      );
      return key;
    } catch (error) {
      if ((error as Error).name !== 'ResourceExistsException') throw error;
    }
    const winner = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId, VersionId: FIRST_ACCOUNT_KEY_VERSION }));
    if (!isAccountKey(winner.SecretString))
      throw new Error(`secret ${this.secretId}: version ${FIRST_ACCOUNT_KEY_VERSION} holds no private key`);
    return winner.SecretString;
  }
}

export class FileAccountKey implements AccountKeyStore {
  constructor(private readonly path: string) {}

  async load(): Promise<string> {
    try {
      return await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    // Written whole under a name of its own, then linked into place: link() fails with
    // EEXIST when the name is taken, so of concurrent first uses (in this process or
    // another) exactly one key wins, the others read it, and nobody reads a
    // half-written file. The draft's name is unique per call: two calls in one
    // millisecond must not write, link and unlink the same draft.
    const draft = `${this.path}.${process.pid}.${randomUUID()}.tmp`;
    await writeFile(draft, await newAccountKey(), { mode: 0o600, flag: 'wx' });
    try {
      await link(draft, this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await unlink(draft);
    }
    return readFile(this.path, 'utf8');
  }
}
