// `npm run token -- --apps demo,shop [--sub ci-deploy]` or `--operator`: mints an API
// bearer token with the secret the stack keeps in Secrets Manager (--secret-id, or
// API_TOKEN_SECRET_ARN). The local cloud prints its own tokens at start.
import { parseArgs } from 'node:util';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { signToken } from '../functions/domain/tokens.ts';

const { values } = parseArgs({
  options: { apps: { type: 'string' }, operator: { type: 'boolean' }, sub: { type: 'string' }, 'secret-id': { type: 'string' } },
});
const secretId = values['secret-id'] ?? process.env.API_TOKEN_SECRET_ARN;
if (!secretId || (!values.apps && !values.operator)) {
  console.error('usage: npm run token -- (--apps APP[,APP...] | --operator) [--sub NAME] [--secret-id ARN]');
  process.exit(2);
}
const { SecretString } = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: secretId }));
if (!SecretString) throw new Error(`secret ${secretId} is empty`);
const apps = values.operator ? '*' : values.apps!.split(',').map((app) => app.trim());
console.log(signToken({ sub: values.sub ?? (values.operator ? 'operator' : `owner of ${values.apps}`), apps }, SecretString));
