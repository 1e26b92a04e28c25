// Everything the service runs on in AWS: the event log and its projection, the
// issuance workflow and its steps, the API, the platform's event rule, and where
// databases' certificates go.
import { fileURLToPath } from 'node:url';
import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, Validations, type App, type StackProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { METRICS_NAMESPACE } from '../functions/domain/figures.ts';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct, IConstruct } from 'constructs';
import { API_HANDLERS, API_ROUTES, AUTHORIZER_HANDLER, PLATFORM_EVENTS_HANDLER, PROJECTOR_HANDLER, SWEEP_HANDLER } from './api-routes.ts';
import { APPS_INDEX, DUE_INDEX } from '../functions/adapters/status/dynamodb-status-store.ts';
import { PLATFORM_EVENT_TYPES } from '../functions/domain/events.ts';
import { DEFAULT_DATABASE_SECRET_PREFIX } from '../functions/handlers/config.ts';
import type { HandlerGroup } from '../functions/handlers/http/contract.ts';
import { ISSUANCE_STEPS, issuanceDefinition, type IssuanceStep } from './workflows/issuance.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Reads of the status projection; stream reads and index wildcards left out (see `readsStatus`). */
const STATUS_READS = [
  'dynamodb:BatchGetItem',
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
];
const STATUS_WRITES = [
  'dynamodb:BatchWriteItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:DescribeTable',
];

/** Why each route that takes no token is public (cdk-nag APIG4 and COG4). */
const PUBLIC_ROUTES: Partial<Record<HandlerGroup, string>> = {
  challenge: 'HTTP-01 answers: the CA fetches them without credentials (RFC 8555 section 8.3), so this route cannot be authorized',
  openapi: "The API's OpenAPI document is public by design: it describes the routes and holds no data",
};

/** A resolved ARN as cdk-nag spells it in a finding id: `Fn::Join` flattened, `Ref` and `Fn::GetAtt` as `<...>`. */
function nagText(value: unknown): string {
  if (typeof value === 'string') return value;
  const node = value as Record<string, unknown>;
  if ('Fn::Join' in node) {
    const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map(nagText).join(separator);
  }
  if ('Fn::GetAtt' in node) return `<${(node['Fn::GetAtt'] as string[]).join('.')}>`;
  if ('Ref' in node) return `<${String(node.Ref)}>`;
  throw new Error(`cannot spell ${JSON.stringify(value)} as cdk-nag does`);
}

/** cdk-nag's AwsSolutions checks as a synth plugin: a finding the stack does not acknowledge fails synth and deploy. */
export function checkWithCdkNag(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}

export interface CertificateAutomationProps extends StackProps {
  /** The suffix of app DNS targets (`<app>.<suffix>`) that custom domains must point at. */
  dnsTargetSuffix: string;
  /** The ACME directory; Let's Encrypt production unless told otherwise. */
  acmeDirectoryUrl?: string;
  /**
   * The zone the platform owns for its databases (`db.example.net`, lowercase, no trailing dot):
   * a database's hostname, and its certificate's name, is `<database>.<app>.<suffix>`.
   */
  databaseHostSuffix: string;
  /**
   * The id (`Z0123456789ABCDEFGHIJ`) of the Route 53 hosted zone that serves `databaseHostSuffix`:
   * DNS-01 answers for databases' certificates are TXT records there, and the steps may write nothing else.
   */
  databaseHostedZoneId: string;
}

export class CertificateAutomationStack extends Stack {
  constructor(scope: Construct, id: string, props: CertificateAutomationProps) {
    super(scope, id, props);

    // cdk-nag (AwsSolutions): what this design accepts is acknowledged on the construct that holds it,
    // one finding at a time (for IAM5, the very wildcard resource), each with why; never stack-wide.
    const acknowledge = (scope: IConstruct, rule: string, reason: string) =>
      Validations.of(scope).acknowledge({ id: `AwsSolutions-${rule}`, reason });
    const acknowledgeWildcard = (policyHolder: IConstruct, arn: string, reason: string) =>
      acknowledge(policyHolder, `IAM5[Resource::${nagText(this.resolve(arn))}]`, reason);
    /** A grant on a wildcard resource the actions cannot do without, acknowledged with why. */
    const grantOnWildcard = (handler: NodejsFunction, actions: string[], arn: string, reason: string) => {
      handler.addToRolePolicy(new iam.PolicyStatement({ actions, resources: [arn] }));
      acknowledgeWildcard(handler.role!, arn, reason);
    };
    const XRAY_NEEDS_ANY_RESOURCE = 'X-Ray PutTraceSegments and PutTelemetryRecords (tracing ACTIVE) have no resource-level permissions';

    const eventLog = new dynamodb.Table(this, 'Events', {
      partitionKey: { name: 'streamId', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'version', type: dynamodb.AttributeType.NUMBER },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      stream: dynamodb.StreamViewType.NEW_IMAGE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // The log is the source of truth: it outlives the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const statusTable = new dynamodb.Table(this, 'Status', {
      partitionKey: { name: 'app', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'hostname', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      // A projection, rebuilt row by row from the log; restoring a point in time is the quicker way back.
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // The sweep's sparse index: only rows with something due (a renewal, an ARI check, a failing notice).
    statusTable.addGlobalSecondaryIndex({
      indexName: DUE_INDEX,
      partitionKey: { name: 'dueShard', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'dueAt', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });
    // Operators' list of apps: only the apps' own rows are in it, in name order.
    statusTable.addGlobalSecondaryIndex({
      indexName: APPS_INDEX,
      partitionKey: { name: 'listedIn', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'app', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    const challengeTable = new dynamodb.Table(this, 'Challenges', {
      partitionKey: { name: 'token', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiresAt',
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledge(challengeTable, 'DDB3', 'HTTP-01 answers live for minutes (TTL) while an order is validated: there is nothing to recover');
    const accountKey = new secretsmanager.Secret(this, 'AcmeAccountKey', {
      description: 'ACME account private key (PEM); created by the service on first use',
    });
    acknowledge(
      accountKey,
      'SMG4',
      "An ACME account key is rotated by the CA's key change (RFC 8555 section 7.3.5), which a Secrets Manager rotation cannot do",
    );

    const environment = {
      EVENTS_TABLE: eventLog.tableName,
      STATUS_TABLE: statusTable.tableName,
      CHALLENGES_TABLE: challengeTable.tableName,
      ACME_ACCOUNT_KEY_SECRET: accountKey.secretArn,
      ...(props.acmeDirectoryUrl && { ACME_DIRECTORY_URL: props.acmeDirectoryUrl }),
      DNS_TARGET_SUFFIX: props.dnsTargetSuffix,
      DATABASE_HOST_SUFFIX: props.databaseHostSuffix,
    };
    const fn = (id: string, entry: string, timeout = Duration.seconds(30)) => {
      const logGroup = new logs.LogGroup(this, `${id}Logs`, {
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      // Writes to its own log group only: not AWSLambdaBasicExecutionRole, which may write to every group.
      const role = new iam.Role(this, `${id}ServiceRole`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      logGroup.grantWrite(role);
      const handler = new NodejsFunction(this, id, {
        entry: `${ROOT}${entry}`,
        handler: 'handler',
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        // X-Ray on every function, like the state machine: Powertools' Tracer writes the segments.
        tracing: lambda.Tracing.ACTIVE,
        memorySize: 512,
        timeout,
        environment,
        role,
        logGroup,
        depsLockFilePath: `${ROOT}package-lock.json`,
        bundling: {
          format: OutputFormat.ESM,
          target: 'node22',
          minify: true,
          sourceMap: true,
          // acme-client and others are CommonJS: give the ESM bundle a require().
          banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
          // The SDK clients go in the bundle: the versions package-lock.json pins, not whichever the
          // runtime carries that day, and the very bytes the local cloud runs (test/e2e/bundles.test.ts).
          bundleAwsSDK: true,
          // Packages' ES builds, which esbuild can trim (230-450 KB less a function than their CommonJS ones).
          mainFields: ['module', 'main'],
          // index.meta.json beside index.mjs: what went into the bundle, and its entry file.
          metafile: true,
        },
      });
      acknowledge(handler, 'L1', 'Pinned to Node 22, the runtime the bundles are built (esbuild target node22) and tested for');
      acknowledgeWildcard(role, '*', XRAY_NEEDS_ANY_RESOURCE);
      return handler;
    };

    // The workflow's steps: each gets exactly what it touches. CreateOrder publishes the challenge and may
    // wait for Route 53 to be in sync (the adapter gives up after 90 s), inside the Task's 2 minutes.
    const steps = Object.fromEntries(
      Object.entries(ISSUANCE_STEPS).map(([name, entry]) => [
        name,
        fn(`Step${name}`, entry, name === 'CreateOrder' ? Duration.seconds(110) : Duration.minutes(1)),
      ]),
    ) as Record<IssuanceStep, NodejsFunction>;
    for (const step of Object.values(steps)) eventLog.grantReadWriteData(step);
    const talksToCa: IssuanceStep[] = ['CreateOrder', 'AskCaToValidate', 'CheckValidation', 'FinalizeAndInstall'];
    for (const name of talksToCa) {
      accountKey.grantRead(steps[name]);
      accountKey.grantWrite(steps[name]);
    }
    challengeTable.grantWriteData(steps.CreateOrder);
    // ACM names a certificate at import: any certificate of this account and region, no other.
    const certificatesArn = this.formatArn({ service: 'acm', resource: 'certificate', resourceName: '*' });
    const CERTIFICATE_ARNS_UNKNOWN =
      "ACM assigns a certificate's ARN when it is imported: the service's certificates cannot be named at deploy time";
    const importsCertificates = (handler: NodejsFunction) =>
      grantOnWildcard(handler, ['acm:ImportCertificate', 'acm:AddTagsToCertificate'], certificatesArn, CERTIFICATE_ARNS_UNKNOWN);
    const deletesCertificates = (handler: NodejsFunction) =>
      grantOnWildcard(handler, ['acm:DeleteCertificate'], certificatesArn, CERTIFICATE_ARNS_UNKNOWN);
    importsCertificates(steps.FinalizeAndInstall);
    // A certificate a crash left unrecorded is found by its install-id tag (ACM cannot filter by tag).
    grantOnWildcard(steps.FinalizeAndInstall, ['tag:GetResources'], '*', 'tag:GetResources has no resource-level permissions');
    // A first certificate that could not be recorded is taken out again.
    deletesCertificates(steps.FinalizeAndInstall);

    // Databases' DNS-01 answers: TXT records at `_acme-challenge.` names in the platform's zone,
    // published by CreateOrder and removed once the CA has looked, and nothing else in that zone.
    const databaseZoneArn = this.formatArn({
      service: 'route53',
      region: '',
      account: '',
      resource: 'hostedzone',
      resourceName: props.databaseHostedZoneId,
    });
    for (const name of ['CreateOrder', 'AskCaToValidate', 'CheckValidation'] as const) {
      steps[name].addEnvironment('DATABASE_HOSTED_ZONE_ID', props.databaseHostedZoneId);
      steps[name].addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['route53:ChangeResourceRecordSets'],
          resources: [databaseZoneArn],
          conditions: {
            'ForAllValues:StringEquals': {
              'route53:ChangeResourceRecordSetsRecordTypes': ['TXT'],
              'route53:ChangeResourceRecordSetsActions': ['UPSERT', 'DELETE'],
            },
            'ForAllValues:StringLike': {
              'route53:ChangeResourceRecordSetsNormalizedRecordNames': [`_acme-challenge.*.${props.databaseHostSuffix}`],
            },
          },
        }),
      );
      // Waiting for the change to be INSYNC.
      grantOnWildcard(
        steps[name],
        ['route53:GetChange'],
        this.formatArn({ service: 'route53', region: '', account: '', resource: 'change', resourceName: '*' }),
        'A Route 53 change id is returned by the ChangeResourceRecordSets it tracks: it cannot be named at deploy time',
      );
    }

    // Databases' certificates: a secret per database under one prefix, and an event for its host's
    // agent. Whoever installs or removes one may write, tag and delete those secrets, never read them.
    const databaseSecretPrefix = DEFAULT_DATABASE_SECRET_PREFIX;
    const databaseSecretsArn = this.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${databaseSecretPrefix}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const defaultBus = events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    const installsDatabaseCertificates = (handler: NodejsFunction) => {
      handler.addEnvironment('DATABASE_SECRET_PREFIX', databaseSecretPrefix);
      grantOnWildcard(
        handler,
        [
          'secretsmanager:CreateSecret',
          'secretsmanager:PutSecretValue',
          'secretsmanager:TagResource',
          'secretsmanager:DeleteSecret',
          'secretsmanager:DescribeSecret',
          // Enabling again within the 7-day recovery window of a disable brings the same secret back.
          'secretsmanager:RestoreSecret',
        ],
        databaseSecretsArn,
        "One secret per database, made when its certificate is enabled: only this prefix, and no read of a secret's value",
      );
      defaultBus.grantPutEventsTo(handler);
    };
    installsDatabaseCertificates(steps.FinalizeAndInstall);

    // The platform attaches this to each database host's role, tagged `app` and `database`:
    // one policy for every host (ABAC), and a host reads only its own database's secret.
    const hostSecretRead = new iam.ManagedPolicy(this, 'DatabaseHostSecretRead', {
      managedPolicyName: `${this.stackName}-DatabaseHostSecretRead`,
      description: "Lets a database host read its own database's certificate secret (role tags app and database)",
      statements: [
        new iam.PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          resources: [databaseSecretsArn],
          conditions: {
            StringEquals: {
              'secretsmanager:ResourceTag/app': '${aws:PrincipalTag/app}',
              'secretsmanager:ResourceTag/database': '${aws:PrincipalTag/database}',
            },
            // A role without both tags reads nothing, whatever a missing policy variable would match.
            Null: { 'aws:PrincipalTag/app': 'false', 'aws:PrincipalTag/database': 'false' },
          },
        }),
      ],
    });
    acknowledgeWildcard(
      hostSecretRead,
      databaseSecretsArn,
      "ABAC, one policy for every database host: the conditions allow only the secret tagged with the host role's own app and database",
    );

    const issuanceName = `${this.stackName}-issuance`;
    const stateMachine = new sfn.StateMachine(this, 'Issuance', {
      stateMachineName: issuanceName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(issuanceDefinition(this, steps)),
      tracingEnabled: true,
      logs: {
        destination: new logs.LogGroup(this, 'IssuanceLogs', {
          retention: logs.RetentionDays.ONE_MONTH,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
        // Every transition, without inputs and outputs: the console's execution history has those.
        level: sfn.LogLevel.ALL,
        includeExecutionData: false,
      },
    });
    acknowledgeWildcard(
      stateMachine.role,
      '*',
      "CloudWatch Logs' log-delivery actions (Step Functions logging) and X-Ray's segment writes have no resource-level permissions",
    );
    for (const step of Object.values(steps)) {
      acknowledgeWildcard(
        stateMachine.role,
        `${step.functionArn}:*`,
        "LambdaInvoke's grant on the step's own function's versions and aliases",
      );
    }
    const startsWorkflows = { STATE_MACHINE_ARN: stateMachine.stateMachineArn };
    // The ARN is a token here, so string replacement cannot turn it into the executions' ARN.
    const executionsArn = this.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${issuanceName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const onExecutions = (handler: NodejsFunction, action: string) =>
      grantOnWildcard(
        handler,
        [action],
        executionsArn,
        "Executions are named when started (app, domain, attempt): only this state machine's",
      );

    // The status projection: the table, and the sweep's index by name, not `index/*`.
    const readsStatus = (handler: NodejsFunction, ...indexes: string[]) =>
      handler.addToRolePolicy(
        new iam.PolicyStatement({
          actions: STATUS_READS,
          resources: [statusTable.tableArn, ...indexes.map((index) => `${statusTable.tableArn}/index/${index}`)],
        }),
      );

    // The status projection, fed by the log's stream.
    const projectorDeadLetters = new sqs.Queue(this, 'ProjectorDeadLetters', { retentionPeriod: Duration.days(14), enforceSSL: true });
    acknowledge(
      projectorDeadLetters,
      'SQS3',
      "This queue is the dead-letter queue (the projector's on-failure destination): it is alarmed and keeps messages 14 days",
    );
    const projector = fn('ProjectStatus', PROJECTOR_HANDLER);
    eventLog.grantReadData(projector);
    projector.addToRolePolicy(new iam.PolicyStatement({ actions: STATUS_WRITES, resources: [statusTable.tableArn] }));
    // The edge learns of TLS policy changes from the log's stream: told at least once, even after a crash.
    defaultBus.grantPutEventsTo(projector);
    acknowledgeWildcard(projector.role!, '*', 'dynamodb:ListStreams (the event source mapping) has no resource-level permissions');
    projector.addEventSource(
      new DynamoEventSource(eventLog, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        retryAttempts: 10,
        onFailure: new SqsDlq(projectorDeadLetters),
      }),
    );

    // What changes apps and domains from outside the workflow: start and stop executions,
    // and remove the certificates of removed domains and of apps that turned automation off.
    const changesDomains = (handler: NodejsFunction) => {
      handler.addEnvironment('STATE_MACHINE_ARN', startsWorkflows.STATE_MACHINE_ARN);
      eventLog.grantReadWriteData(handler);
      stateMachine.grantStartExecution(handler);
      onExecutions(handler, 'states:StopExecution');
      deletesCertificates(handler);
    };

    // The HTTP API: one Lambda per resource group, a token authorizer in front.
    const tokenSecret = new secretsmanager.Secret(this, 'ApiTokenSecret', {
      description: 'Signs API bearer tokens (HMAC-SHA256)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    acknowledge(
      tokenSecret,
      'SMG4',
      'Rotating the HMAC key revokes every bearer token issued with it: an operator does it on purpose and mints new tokens, not a schedule',
    );
    const authorizerFunction = fn('ApiAuthorizer', AUTHORIZER_HANDLER);
    authorizerFunction.addEnvironment('API_TOKEN_SECRET_ARN', tokenSecret.secretArn);
    tokenSecret.grantRead(authorizerFunction);
    const authorizer = new apigateway.TokenAuthorizer(this, 'TokenAuthorizer', {
      handler: authorizerFunction,
      resultsCacheTtl: Duration.minutes(5),
    });
    const apiStage = 'prod';
    const api = new apigateway.RestApi(this, 'Api', {
      restApiName: `${this.stackName}-api`,
      // API Gateway's account-wide role for writing logs: access and execution logs need it.
      cloudWatchRole: true,
      deployOptions: {
        stageName: apiStage,
        // Per-client limits beyond these need API keys on a usage plan (see README).
        throttlingRateLimit: 50,
        throttlingBurstLimit: 100,
        accessLogDestination: new apigateway.LogGroupLogDestination(
          new logs.LogGroup(this, 'ApiAccessLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
        ),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
        // Errors only, and no data trace: bodies carry private keys (uploads), headers bearer tokens.
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
      },
    });
    // Execution logs go to a group API Gateway names itself: made first here, to have a retention.
    const executionLogs = new logs.LogGroup(this, 'ApiExecutionLogs', {
      logGroupName: `API-Gateway-Execution-Logs_${api.restApiId}/${apiStage}`,
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    api.deploymentStage.node.addDependency(executionLogs);
    acknowledge(
      api.deploymentStage,
      'APIG3',
      'No WAF web ACL: callers are the platform and operators with bearer tokens, and the stage throttles (50 rps, burst 100); an ACL can be associated with the stage from outside this stack',
    );
    acknowledge(
      api.node.findChild('CloudWatchRole'),
      'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      "API Gateway's account-wide logging role, shared by every REST API in the account and region: AWS's policy for it, since a narrower one would break the others' logs",
    );
    // API Gateway checks every method's path parameters. Bodies are checked by the handlers against the
    // contract's zod schemas: the contract's 400 names the field and the rule, which a gateway response cannot.
    const requestValidator = api.addRequestValidator('RequestValidator', { validateRequestBody: false, validateRequestParameters: true });
    acknowledge(
      api,
      'APIG2',
      "Path parameters are validated by API Gateway; bodies by the handlers against the contract's zod schemas, whose 400 names the field and the rule as the contract requires (a gateway response can only give a fixed message)",
    );
    const apiFunctions = Object.fromEntries(
      Object.entries(API_HANDLERS).map(([name, entry]) => [name, fn(`Api${name[0]!.toUpperCase()}${name.slice(1)}`, entry)]),
    ) as Record<keyof typeof API_HANDLERS, NodejsFunction>;
    for (const group of [apiFunctions.domains, apiFunctions.acm, apiFunctions.certs, apiFunctions.databases]) {
      changesDomains(group);
      readsStatus(group, ...(group === apiFunctions.acm ? [APPS_INDEX] : []));
    }
    // Disabling removes a database's certificate; rotating serves another root.
    installsDatabaseCertificates(apiFunctions.databases);
    importsCertificates(apiFunctions.certs);
    challengeTable.grantReadData(apiFunctions.challenge);
    eventLog.grantReadData(apiFunctions.ca);
    for (const route of API_ROUTES) {
      const resource = api.root.resourceForPath(route.resource);
      const pathParameters = [...route.resource.matchAll(/\{(\w+)\}/g)].map(([, name]) => `method.request.path.${name}`);
      const method = resource.addMethod(route.method, new apigateway.LambdaIntegration(apiFunctions[route.handler]), {
        ...(route.auth && { authorizer, authorizationType: apigateway.AuthorizationType.CUSTOM }),
        requestValidator,
        requestParameters: Object.fromEntries(pathParameters.map((parameter) => [parameter, true])),
      });
      if (route.auth) {
        acknowledge(
          method,
          'COG4',
          'Authorized by the Lambda TOKEN authorizer (HMAC-signed bearer tokens scoped to apps): the platform has no Cognito user pool',
        );
      } else {
        const reason = PUBLIC_ROUTES[route.handler];
        if (!reason) throw new Error(`${route.method} ${route.resource} takes no token: say why in PUBLIC_ROUTES`);
        acknowledge(method, 'APIG4', reason);
        acknowledge(method, 'COG4', reason);
      }
    }

    // The platform's events.
    const platformEvents = fn('PlatformEvents', PLATFORM_EVENTS_HANDLER);
    changesDomains(platformEvents);
    // A removed database's certificate goes with it.
    installsDatabaseCertificates(platformEvents);
    new events.Rule(this, 'PlatformEventsRule', {
      description: 'Starts and stops issuance as the platform adds and removes domains, databases and apps',
      eventPattern: { source: ['platform'], detailType: [...PLATFORM_EVENT_TYPES] },
      targets: [new targets.LambdaFunction(platformEvents, { retryAttempts: 8 })],
    });

    // The hourly sweep: renewals that are due, and owners told about domains failing for days.
    const sweep = fn('Sweep', SWEEP_HANDLER, Duration.minutes(5));
    sweep.addEnvironment('STATE_MACHINE_ARN', startsWorkflows.STATE_MACHINE_ARN);
    eventLog.grantReadWriteData(sweep);
    readsStatus(sweep, DUE_INDEX);
    stateMachine.grantStartExecution(sweep);
    // The reconciler asks whether an attempt's execution still runs; deferred removals are retried here.
    onExecutions(sweep, 'states:DescribeExecution');
    deletesCertificates(sweep);
    // Notices go on the default bus (no EVENT_BUS_NAME), as the other handlers' events do.
    defaultBus.grantPutEventsTo(sweep);
    new events.Rule(this, 'SweepSchedule', {
      description: 'Renews certificates that are due and reports domains failing for days',
      schedule: events.Schedule.rate(Duration.hours(1)),
      targets: [new targets.LambdaFunction(sweep)],
    });

    // Operators are told before users are: every alarm goes to one topic they subscribe to.
    const alarms = new sns.Topic(this, 'OperatorAlarms', { displayName: 'Certificate automation alarms', enforceSSL: true });
    // A topic policy replaces SNS's default one, which is what let CloudWatch alarms publish: say so again.
    alarms.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [alarms.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': this.account },
          ArnLike: {
            'aws:SourceArn': this.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    const alarm = (
      id: string,
      description: string,
      props: Omit<cloudwatch.CreateAlarmOptions, 'alarmDescription'> & { metric: cloudwatch.Metric },
    ) =>
      props.metric
        .createAlarm(this, id, { alarmDescription: description, treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING, ...props })
        .addAlarmAction(new cloudwatchActions.SnsAction(alarms));
    alarm('ExecutionsFailed', 'An issuance execution failed (not a domain that Failed: the workflow itself)', {
      metric: stateMachine.metricFailed({ period: Duration.minutes(5) }),
      threshold: 1,
      evaluationPeriods: 1,
    });
    alarm('ProjectorDeadLettersWaiting', 'Stream records the projector gave up on: statuses are behind the log', {
      metric: projectorDeadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      threshold: 1,
      evaluationPeriods: 1,
    });
    const functions = {
      ...steps,
      ...apiFunctions,
      ApiAuthorizer: authorizerFunction,
      ProjectStatus: projector,
      PlatformEvents: platformEvents,
      Sweep: sweep,
    };
    for (const [name, handler] of Object.entries(functions)) {
      alarm(`${name}Errors`, `${name} threw (a bug or an outage: handled failures are recorded, not thrown)`, {
        metric: handler.metricErrors({ period: Duration.minutes(5) }),
        threshold: 1,
        evaluationPeriods: 1,
      });
    }
    alarm('CertificateExpiresSoon', 'A managed certificate has under 14 days left: it is not renewing', {
      metric: new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: 'DaysToExpiry',
        statistic: 'Minimum',
        period: Duration.hours(1),
      }),
      threshold: 14,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
    });
    alarm('ProjectorLag', 'The status projection is over 5 minutes behind the log', {
      metric: projector.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1) }),
      threshold: 5 * 60_000,
      evaluationPeriods: 3,
    });
    new CfnOutput(this, 'OperatorAlarmsTopicArn', { value: alarms.topicArn });

    new CfnOutput(this, 'ApiUrl', { value: api.url });
    new CfnOutput(this, 'StateMachineArn', { value: stateMachine.stateMachineArn });
    new CfnOutput(this, 'DatabaseHostSecretReadPolicyArn', {
      description: 'Attach to each database host role, tagged app and database',
      value: hostSecretRead.managedPolicyArn,
      exportName: `${this.stackName}-DatabaseHostSecretRead`,
    });
  }
}
