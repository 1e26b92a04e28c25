// Everything the service runs on in AWS: the event log and its projection, the
// issuance workflow and its steps, the API, the platform's event rule, and where
// databases' certificates go.
import { fileURLToPath } from 'node:url';
import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
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
import type { Construct } from 'constructs';
import { API_HANDLERS, API_ROUTES, AUTHORIZER_HANDLER, PLATFORM_EVENTS_HANDLER, PROJECTOR_HANDLER, SWEEP_HANDLER } from './api-routes.ts';
import { DUE_INDEX } from '../functions/adapters/status/dynamodb-status-store.ts';
import { PLATFORM_EVENT_TYPES } from '../functions/domain/events.ts';
import { DEFAULT_DATABASE_SECRET_PREFIX } from '../functions/handlers/config.ts';
import { ISSUANCE_STEPS, issuanceDefinition, type IssuanceStep } from './workflows/issuance.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

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
      // A projection: rebuilt from the log at will.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // The sweep's sparse index: only rows with something due (a renewal, an ARI check, a failing notice).
    statusTable.addGlobalSecondaryIndex({
      indexName: DUE_INDEX,
      partitionKey: { name: 'dueShard', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'dueAt', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });
    const challengeTable = new dynamodb.Table(this, 'Challenges', {
      partitionKey: { name: 'token', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiresAt',
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const accountKey = new secretsmanager.Secret(this, 'AcmeAccountKey', {
      description: 'ACME account private key (PEM); created by the service on first use',
    });

    const environment = {
      EVENTS_TABLE: eventLog.tableName,
      STATUS_TABLE: statusTable.tableName,
      CHALLENGES_TABLE: challengeTable.tableName,
      ACME_ACCOUNT_KEY_SECRET: accountKey.secretArn,
      ...(props.acmeDirectoryUrl && { ACME_DIRECTORY_URL: props.acmeDirectoryUrl }),
      DNS_TARGET_SUFFIX: props.dnsTargetSuffix,
      DATABASE_HOST_SUFFIX: props.databaseHostSuffix,
    };
    const fn = (id: string, entry: string, timeout = Duration.seconds(30)) =>
      new NodejsFunction(this, id, {
        entry: `${ROOT}${entry}`,
        handler: 'handler',
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        // X-Ray on every function, like the state machine: Powertools' Tracer writes the segments.
        tracing: lambda.Tracing.ACTIVE,
        memorySize: 512,
        timeout,
        environment,
        logGroup: new logs.LogGroup(this, `${id}Logs`, { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
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
          // index.meta.json beside index.mjs: what went into the bundle, and its entry file.
          metafile: true,
        },
      });

    // The workflow's steps: each gets exactly what it touches. PublishChallenge may wait for
    // Route 53 to be in sync (the adapter gives up after 90 s), inside the Task's 2 minutes.
    const steps = Object.fromEntries(
      Object.entries(ISSUANCE_STEPS).map(([name, entry]) => [
        name,
        fn(`Step${name}`, entry, name === 'PublishChallenge' ? Duration.seconds(110) : Duration.minutes(1)),
      ]),
    ) as Record<IssuanceStep, NodejsFunction>;
    for (const step of Object.values(steps)) eventLog.grantReadWriteData(step);
    const talksToCa: IssuanceStep[] = [
      'CreateOrder',
      'PublishChallenge',
      'SelfCheckChallenge',
      'AskCaToValidate',
      'CheckValidation',
      'FinalizeAndInstall',
    ];
    for (const name of talksToCa) {
      accountKey.grantRead(steps[name]);
      accountKey.grantWrite(steps[name]);
    }
    challengeTable.grantWriteData(steps.PublishChallenge);
    const certificatesArn = this.formatArn({ service: 'acm', resource: 'certificate', resourceName: '*' });
    steps.FinalizeAndInstall.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['acm:ImportCertificate', 'acm:AddTagsToCertificate'], resources: ['*'] }),
    );
    // A certificate a crash left unrecorded is found by its install-id tag (ACM cannot filter by tag; this API has no resource scope).
    steps.FinalizeAndInstall.addToRolePolicy(new iam.PolicyStatement({ actions: ['tag:GetResources'], resources: ['*'] }));
    // A first certificate that could not be recorded is taken out again.
    steps.FinalizeAndInstall.addToRolePolicy(new iam.PolicyStatement({ actions: ['acm:DeleteCertificate'], resources: [certificatesArn] }));

    // Databases' DNS-01 answers: TXT records at `_acme-challenge.` names in the platform's zone,
    // published and removed by the steps, and nothing else in that zone.
    const databaseZoneArn = this.formatArn({
      service: 'route53',
      region: '',
      account: '',
      resource: 'hostedzone',
      resourceName: props.databaseHostedZoneId,
    });
    for (const name of ['PublishChallenge', 'CheckValidation'] as const) {
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
      // Waiting for the change to be INSYNC; change ids are not known before.
      steps[name].addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['route53:GetChange'],
          resources: [this.formatArn({ service: 'route53', region: '', account: '', resource: 'change', resourceName: '*' })],
        }),
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
      handler.addToRolePolicy(
        new iam.PolicyStatement({
          actions: [
            'secretsmanager:CreateSecret',
            'secretsmanager:PutSecretValue',
            'secretsmanager:TagResource',
            'secretsmanager:DeleteSecret',
            'secretsmanager:DescribeSecret',
            // Enabling again within the 7-day recovery window of a disable brings the same secret back.
            'secretsmanager:RestoreSecret',
          ],
          resources: [databaseSecretsArn],
        }),
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
        level: sfn.LogLevel.ERROR,
      },
    });
    const startsWorkflows = { STATE_MACHINE_ARN: stateMachine.stateMachineArn };
    // The ARN is a token here, so string replacement cannot turn it into the executions' ARN.
    const executionsArn = this.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${issuanceName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    // The status projection, fed by the log's stream.
    const projectorDeadLetters = new sqs.Queue(this, 'ProjectorDeadLetters', { retentionPeriod: Duration.days(14) });
    const projector = fn('ProjectStatus', PROJECTOR_HANDLER);
    eventLog.grantReadData(projector);
    statusTable.grantWriteData(projector);
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
      handler.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['states:StopExecution'],
          resources: [executionsArn],
        }),
      );
      handler.addToRolePolicy(new iam.PolicyStatement({ actions: ['acm:DeleteCertificate'], resources: [certificatesArn] }));
    };

    // The HTTP API: one Lambda per resource group, a token authorizer in front.
    const tokenSecret = new secretsmanager.Secret(this, 'ApiTokenSecret', {
      description: 'Signs API bearer tokens (HMAC-SHA256)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    const authorizerFunction = fn('ApiAuthorizer', AUTHORIZER_HANDLER);
    authorizerFunction.addEnvironment('API_TOKEN_SECRET_ARN', tokenSecret.secretArn);
    tokenSecret.grantRead(authorizerFunction);
    const authorizer = new apigateway.TokenAuthorizer(this, 'TokenAuthorizer', {
      handler: authorizerFunction,
      resultsCacheTtl: Duration.minutes(5),
    });
    const api = new apigateway.RestApi(this, 'Api', {
      restApiName: `${this.stackName}-api`,
      // Per-client limits beyond these need API keys on a usage plan (see README).
      deployOptions: { throttlingRateLimit: 50, throttlingBurstLimit: 100 },
    });
    const apiFunctions = Object.fromEntries(
      Object.entries(API_HANDLERS).map(([name, entry]) => [name, fn(`Api${name[0]!.toUpperCase()}${name.slice(1)}`, entry)]),
    ) as Record<keyof typeof API_HANDLERS, NodejsFunction>;
    for (const group of [apiFunctions.domains, apiFunctions.acm, apiFunctions.certs, apiFunctions.databases]) {
      changesDomains(group);
      statusTable.grantReadData(group);
    }
    // Disabling removes a database's certificate; rotating serves another root.
    installsDatabaseCertificates(apiFunctions.databases);
    apiFunctions.certs.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['acm:ImportCertificate', 'acm:AddTagsToCertificate'], resources: ['*'] }),
    );
    challengeTable.grantReadData(apiFunctions.challenge);
    eventLog.grantReadData(apiFunctions.ca);
    for (const route of API_ROUTES) {
      api.root
        .resourceForPath(route.resource)
        .addMethod(
          route.method,
          new apigateway.LambdaIntegration(apiFunctions[route.handler]),
          route.auth ? { authorizer, authorizationType: apigateway.AuthorizationType.CUSTOM } : {},
        );
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
    statusTable.grantReadData(sweep);
    stateMachine.grantStartExecution(sweep);
    // The reconciler asks whether an attempt's execution still runs; deferred removals are retried here.
    sweep.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['states:DescribeExecution'],
        resources: [executionsArn],
      }),
    );
    sweep.addToRolePolicy(new iam.PolicyStatement({ actions: ['acm:DeleteCertificate'], resources: [certificatesArn] }));
    events.EventBus.grantAllPutEvents(sweep);
    new events.Rule(this, 'SweepSchedule', {
      description: 'Renews certificates that are due and reports domains failing for days',
      schedule: events.Schedule.rate(Duration.hours(1)),
      targets: [new targets.LambdaFunction(sweep)],
    });

    // Operators are told before users are: every alarm goes to one topic they subscribe to.
    const alarms = new sns.Topic(this, 'OperatorAlarms', { displayName: 'Certificate automation alarms' });
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
