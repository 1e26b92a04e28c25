// The AWS APIs the deployed bundles call, served on 127.0.0.1 by the local cloud's own
// stand-ins: Secrets Manager (secrets in memory), ACM (the certificate folder the router
// serves), Step Functions (the local workflow runner) and EventBridge (the local
// notifications). Each speaks its AWS JSON protocol (POST /, `X-Amz-Target`,
// `application/x-amz-json-1.x`) for just the operations the handlers call, and answers
// errors the way AWS shapes them (`__type`, `message`), so the SDK in the bundle raises the
// typed exceptions it raises in AWS (`ResourceNotFoundException`, `ExecutionAlreadyExists`).
// DynamoDB needs none of this: the bundles talk to DynamoDB Local itself.
import { createPrivateKey, randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import http from 'node:http';
import type { LocalCertificateStore } from '../../functions/adapters/certificates/local-certificate-store.ts';
import { EVENT_SOURCE } from '../../functions/adapters/notifications/eventbridge-notifications.ts';
import type {
  CertificateExpiringNotice,
  IssuanceFailingNotice,
  Notifications,
  TlsPolicyChangedEvent,
} from '../../functions/adapters/notifications/notifications.ts';
import type { LocalWorkflows } from '../../functions/adapters/workflows/local-workflows.ts';
import type { IssuanceInput } from '../../functions/domain/issuance.ts';
import { listen, type LocalServer } from './api-server.ts';

export const LOCAL_REGION = 'local';
export const LOCAL_ACCOUNT = '000000000000';

export interface LocalAwsApisOptions {
  certificates: LocalCertificateStore;
  workflows: LocalWorkflows;
  /** The one state machine there is: StartExecution for any other is StateMachineDoesNotExist. */
  stateMachineArn: string;
  notifications: Notifications;
  /** Secrets as the stack creates them: name -> the value of their first version. */
  secrets: Record<string, string>;
}

export interface LocalAwsApis {
  /** Where every AWS service the bundles call (but DynamoDB) is pointed at. */
  url: string;
  /** `X-Amz-Target` of every call served, in order (`secretsmanager.GetSecretValue`, ...). */
  calls: string[];
  /** Secret name -> its ARN, as the stack's `Ref` resolves. */
  secretArns: Record<string, string>;
  /** A secret's AWSCURRENT value, by name or ARN. */
  secretValue(secretId: string): string | undefined;
  /** Every entry PutEvents accepted (notifications are also handed to the local notifications). */
  putEvents: Array<{ Source: string; DetailType: string; Detail: string; EventBusName?: string }>;
  close(): Promise<void>;
}

/** An AWS error: the SDK picks the exception class by `code`. */
class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
  }
}

type Operation = (input: any) => Promise<unknown>;

export async function startLocalAwsApis(options: LocalAwsApisOptions): Promise<LocalAwsApis> {
  const secrets = new LocalSecretsManager(options.secrets);
  const acm = new LocalAcm(options.certificates);
  const states = new LocalStepFunctions(options.workflows, options.stateMachineArn);
  const putEvents: LocalAwsApis['putEvents'] = [];
  const operations: Record<string, Operation> = {
    'secretsmanager.GetSecretValue': (input) => secrets.getSecretValue(input),
    'secretsmanager.PutSecretValue': (input) => secrets.putSecretValue(input),
    'CertificateManager.ImportCertificate': (input) => acm.importCertificate(input),
    'CertificateManager.DeleteCertificate': (input) => acm.deleteCertificate(input),
    'AWSStepFunctions.StartExecution': (input) => states.startExecution(input),
    'AWSStepFunctions.StopExecution': (input) => states.stopExecution(input),
    'AWSStepFunctions.DescribeExecution': (input) => states.describeExecution(input),
    'AWSEvents.PutEvents': (input) => putEventsOperation(input, putEvents, options.notifications),
  };
  const calls: string[] = [];

  const server = http.createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const target = String(request.headers['x-amz-target'] ?? '');
    // awsJson1_0 (Step Functions) or awsJson1_1 (the others): answered in the same.
    const contentType = String(request.headers['content-type'] ?? 'application/x-amz-json-1.1');
    const answer = (statusCode: number, body: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(statusCode, { 'content-type': contentType, ...headers });
      response.end(JSON.stringify(body));
    };
    calls.push(target || `${request.method} ${request.url}`);
    try {
      const operation = operations[target];
      // Route 53 (REST-XML, databases' DNS-01) and any other call land here: said plainly, never sent to AWS.
      if (!operation)
        throw new AwsError('UnknownOperationException', `${target || `${request.method} ${request.url}`} is not served locally`);
      const text = Buffer.concat(chunks).toString('utf8');
      answer(200, await operation(text ? JSON.parse(text) : {}));
    } catch (error) {
      const { code, message, statusCode } =
        error instanceof AwsError ? error : new AwsError('InternalFailure', `local ${target}: ${String(error)}`, 500);
      answer(statusCode, { __type: code, message }, { 'x-amzn-errortype': code });
    }
  });
  const local: LocalServer = await listen(server, 0, 'http');
  return {
    url: local.url,
    calls,
    secretArns: secrets.arns(),
    secretValue: (secretId) => secrets.current(secretId),
    putEvents,
    close: () => local.close(),
  };
}

const epochSeconds = (date: Date) => date.getTime() / 1000;

/**
 * Secrets Manager's versions, as far as the handlers use them: each PutSecretValue makes a
 * version named by its ClientRequestToken and labelled AWSCURRENT (the one before becomes
 * AWSPREVIOUS); the same token again with the same value is a retry, with another value
 * `ResourceExistsException`; GetSecretValue reads AWSCURRENT, or the version asked for.
 */
class LocalSecretsManager {
  private readonly secrets = new Map<
    string,
    { arn: string; name: string; versions: Map<string, { value: string; stages: Set<string>; createdAt: Date }> }
  >();

  constructor(initial: Record<string, string>) {
    for (const [name, value] of Object.entries(initial)) {
      // Secrets Manager's ARNs end in a dash and six random characters.
      const arn = `arn:aws:secretsmanager:${LOCAL_REGION}:${LOCAL_ACCOUNT}:secret:${name}-${randomBytes(3).toString('hex')}`;
      const versions = new Map([[randomUUID(), { value, stages: new Set(['AWSCURRENT']), createdAt: new Date() }]]);
      this.secrets.set(name, { arn, name, versions });
    }
  }

  arns(): Record<string, string> {
    return Object.fromEntries([...this.secrets.values()].map(({ name, arn }) => [name, arn]));
  }

  current(secretId: string): string | undefined {
    const secret = this.find(secretId);
    return secret && [...secret.versions.values()].find((version) => version.stages.has('AWSCURRENT'))?.value;
  }

  async getSecretValue({ SecretId, VersionId, VersionStage }: { SecretId: string; VersionId?: string; VersionStage?: string }) {
    const secret = this.secret(SecretId);
    const stage = VersionStage ?? (VersionId ? undefined : 'AWSCURRENT');
    const found = [...secret.versions].find(([id, version]) => (!VersionId || id === VersionId) && (!stage || version.stages.has(stage)));
    if (!found) {
      const which = VersionId ? `VersionId: ${VersionId}` : `staging label: ${stage}`;
      throw new AwsError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for ${which}`);
    }
    const [versionId, version] = found;
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: versionId,
      SecretString: version.value,
      VersionStages: [...version.stages],
      CreatedDate: epochSeconds(version.createdAt),
    };
  }

  async putSecretValue({
    SecretId,
    ClientRequestToken,
    SecretString,
  }: {
    SecretId: string;
    ClientRequestToken?: string;
    SecretString?: string;
  }) {
    const secret = this.secret(SecretId);
    if (SecretString === undefined) throw new AwsError('InvalidParameterException', 'You must provide either SecretString or SecretBinary');
    // The SDK fills the token in when the caller does not (it is an idempotency token).
    const versionId = ClientRequestToken ?? randomUUID();
    const existing = secret.versions.get(versionId);
    if (existing && existing.value !== SecretString) {
      throw new AwsError('ResourceExistsException', "You can't modify an existing version, you can only create a new version.");
    }
    if (!existing) {
      for (const version of secret.versions.values()) {
        version.stages.delete('AWSPREVIOUS');
        if (version.stages.delete('AWSCURRENT')) version.stages.add('AWSPREVIOUS');
      }
      secret.versions.set(versionId, { value: SecretString, stages: new Set(['AWSCURRENT']), createdAt: new Date() });
    }
    return { ARN: secret.arn, Name: secret.name, VersionId: versionId, VersionStages: [...secret.versions.get(versionId)!.stages] };
  }

  private find(secretId: string) {
    return [...this.secrets.values()].find((secret) => secret.arn === secretId || secret.name === secretId);
  }

  private secret(secretId: string) {
    const secret = this.find(secretId);
    if (!secret) throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return secret;
  }
}

/**
 * ACM over the local certificate folder: ImportCertificate reads the names from the certificate
 * itself, as ACM does, checks the key belongs to it, and re-imports into an ARN it knows.
 */
class LocalAcm {
  /** ARN -> tags, for every certificate imported here. */
  private readonly imported = new Map<string, Record<string, string>>();

  constructor(private readonly store: LocalCertificateStore) {}

  async importCertificate(input: {
    Certificate: string;
    PrivateKey: string;
    CertificateChain?: string;
    CertificateArn?: string;
    Tags?: Tag[];
  }) {
    // Blobs travel base64-encoded in the JSON protocols.
    const pem = (blob: string) => Buffer.from(blob, 'base64').toString('utf8').trim() + '\n';
    const leafPem = pem(input.Certificate);
    const privateKeyPem = pem(input.PrivateKey);
    let leaf: X509Certificate;
    try {
      leaf = new X509Certificate(leafPem);
    } catch {
      throw new AwsError('ValidationException', 'The certificate field contains more than one certificate or is not a valid certificate');
    }
    if (!leaf.checkPrivateKey(createPrivateKey(privateKeyPem))) {
      throw new AwsError('ValidationException', 'The private key does not match the public key in the certificate');
    }
    if (input.CertificateArn && input.Tags?.length) throw new AwsError('ValidationException', 'Tags cannot be applied when reimporting');
    if (input.CertificateArn && !this.imported.has(input.CertificateArn)) {
      throw new AwsError('ResourceNotFoundException', `Could not find certificate ${input.CertificateArn}`);
    }
    const names = (leaf.subjectAltName ?? '')
      .split(', ')
      .filter((name) => name.startsWith('DNS:'))
      .map((name) => name.slice('DNS:'.length));
    const tags = input.CertificateArn
      ? this.imported.get(input.CertificateArn)!
      : Object.fromEntries((input.Tags ?? []).map(({ Key, Value }) => [Key, Value ?? '']));
    const certificateArn = await this.store.install(
      {
        hostname: tags.hostname ?? names[0] ?? '',
        names,
        chainPem: leafPem + (input.CertificateChain ? pem(input.CertificateChain) : ''),
        privateKeyPem,
      },
      input.CertificateArn,
    );
    this.imported.set(certificateArn, tags);
    return { CertificateArn: certificateArn };
  }

  async deleteCertificate({ CertificateArn }: { CertificateArn: string }) {
    if (!this.imported.has(CertificateArn)) throw new AwsError('ResourceNotFoundException', `Could not find certificate ${CertificateArn}`);
    await this.store.remove(CertificateArn);
    this.imported.delete(CertificateArn);
    return {};
  }
}

interface Tag {
  Key: string;
  Value?: string;
}

/**
 * Step Functions over the local runner. The runner names an execution from its input
 * (`executionName`), the API from the caller's `name`: they must agree. Starting a name again
 * with the same input while it runs is the same execution; otherwise ExecutionAlreadyExists.
 */
class LocalStepFunctions {
  /** Execution name -> the input string it was started with. */
  private readonly inputs = new Map<string, string>();

  constructor(
    private readonly workflows: LocalWorkflows,
    private readonly stateMachineArn: string,
  ) {}

  async startExecution({ stateMachineArn, name, input = '{}' }: { stateMachineArn: string; name?: string; input?: string }) {
    if (stateMachineArn !== this.stateMachineArn)
      throw new AwsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
    if (!name) throw new AwsError('InvalidName', 'the local runner needs the execution name the service gives');
    const executionArn = this.executionArn(name);
    const existing = this.workflows.executions.get(name);
    if (existing) {
      if (existing.status === 'RUNNING' && this.inputs.get(name) === input)
        return { executionArn, startDate: epochSeconds(existing.startedAt) };
      throw new AwsError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    let parsed: IssuanceInput;
    try {
      parsed = JSON.parse(input) as IssuanceInput;
    } catch {
      throw new AwsError('InvalidExecutionInput', 'Invalid State Machine Execution Input: not JSON');
    }
    const { executionName } = await this.workflows.startIssuance(parsed);
    if (executionName !== name) {
      throw new AwsError('InvalidName', `the local runner names this execution '${executionName}' from its input, not '${name}'`);
    }
    this.inputs.set(name, input);
    return { executionArn, startDate: epochSeconds(this.workflows.executions.get(name)!.startedAt) };
  }

  async stopExecution({ executionArn }: { executionArn: string }) {
    const execution = this.execution(executionArn);
    await this.workflows.stopIssuance(execution.input);
    return { stopDate: epochSeconds(new Date()) };
  }

  async describeExecution({ executionArn }: { executionArn: string }) {
    const execution = this.execution(executionArn);
    return {
      executionArn,
      stateMachineArn: this.stateMachineArn,
      name: execution.name,
      status: execution.status,
      startDate: epochSeconds(execution.startedAt),
      input: this.inputs.get(execution.name) ?? JSON.stringify(execution.input),
    };
  }

  /** An execution's ARN is its state machine's, with `execution` and its name. */
  private executionArn(name: string): string {
    return `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }

  private execution(executionArn: string) {
    const prefix = this.executionArn('');
    const execution = executionArn.startsWith(prefix) ? this.workflows.executions.get(executionArn.slice(prefix.length)) : undefined;
    if (!execution) throw new AwsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return execution;
  }
}

/** EventBridge's PutEvents: the service's notices go to the local notifications, every entry is kept. */
async function putEventsOperation(
  { Entries = [] }: { Entries?: Array<{ Source?: string; DetailType?: string; Detail?: string; EventBusName?: string }> },
  kept: LocalAwsApis['putEvents'],
  notifications: Notifications,
) {
  const results = [];
  for (const { Source, DetailType, Detail, EventBusName } of Entries) {
    let detail: unknown;
    try {
      detail = Detail === undefined ? undefined : JSON.parse(Detail);
    } catch {
      detail = undefined;
    }
    if (!Source || !DetailType || typeof detail !== 'object' || detail === null) {
      results.push({ ErrorCode: 'MalformedDetail', ErrorMessage: 'Source, DetailType and a JSON object Detail are required' });
      continue;
    }
    kept.push({ Source, DetailType, Detail: Detail!, ...(EventBusName && { EventBusName }) });
    if (Source === EVENT_SOURCE && DetailType === 'CertificateIssuanceFailing')
      await notifications.issuanceFailing(detail as IssuanceFailingNotice);
    if (Source === EVENT_SOURCE && DetailType === 'CertificateExpiring')
      await notifications.certificateExpiring(detail as CertificateExpiringNotice);
    if (Source === EVENT_SOURCE && DetailType === 'TlsPolicyChanged') await notifications.tlsPolicyChanged(detail as TlsPolicyChangedEvent);
    results.push({ EventId: randomUUID() });
  }
  return { FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length, Entries: results };
}
