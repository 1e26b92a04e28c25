// The ACME account key is a secret: Secrets Manager in AWS, a 0600 file locally.
// Either is created on first use; the key itself is never logged.
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import acme from 'acme-client';

export interface AccountKeyStore {
  load(): Promise<string>;
}

async function newAccountKey(): Promise<string> {
  return (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
}

export class SecretsManagerAccountKey implements AccountKeyStore {
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
  ) {}

  async load(): Promise<string> {
    const { SecretString } = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
    if (SecretString?.includes('PRIVATE KEY')) return SecretString;
    await this.client.send(new PutSecretValueCommand({ SecretId: this.secretId, SecretString: await newAccountKey() }));
    // Read back: if two cold starts raced, both go on with the one that was stored last.
    const stored = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
    return stored.SecretString ?? '';
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
    // Written whole, then linked into place: of two concurrent first uses exactly one
    // key wins, and nobody reads a half-written file.
    const draft = `${this.path}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(draft, await newAccountKey(), { mode: 0o600 });
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
