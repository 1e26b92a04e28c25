// The per-domain issuance workflow. State names are what operators read in the
// console; each Task is the Lambda built from the handler file beside its name.
import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';

/** State name -> handler file: the stack deploys these, the local cloud runs the very same files. */
export const ISSUANCE_STEPS = {
  CheckDns: 'functions/handlers/steps/check-dns.ts',
  CreateOrder: 'functions/handlers/steps/create-order.ts',
  AskCaToValidate: 'functions/handlers/steps/ask-ca-to-validate.ts',
  CheckValidation: 'functions/handlers/steps/check-validation.ts',
  FinalizeAndInstall: 'functions/handlers/steps/finalize-and-install.ts',
  RecordFailure: 'functions/handlers/steps/record-failure.ts',
} as const;

export type IssuanceStep = keyof typeof ISSUANCE_STEPS;

/** The Wait state the local cloud shortens (the same name, in milliseconds there). */
export const VALIDATION_POLL_STATE = 'WaitForValidation';
const RETRY_WAIT_STATE = 'WaitBeforeRetry';
const RATE_LIMIT_WAIT_STATE = 'WaitForRateLimitToEnd';
/** The ledger held the order back: wait until the bucket refills, then order again. */
const BUDGET_WAIT_STATE = 'WaitForRateLimitBudget';
const VALIDATION_POLL_SECONDS = 2;

/** Errors after which there is nothing to record: the domain is gone, or a newer attempt runs. */
const SUPERSEDED_ERRORS = ['DomainNotFoundError', 'StaleAttemptError'];

export function issuanceDefinition(scope: Construct, functions: Record<IssuanceStep, IFunction>): sfn.IChainable {
  const step = (name: IssuanceStep, resultPath: string) =>
    new tasks.LambdaInvoke(scope, name, {
      stateName: name,
      lambdaFunction: functions[name],
      payloadResponseOnly: true,
      resultPath,
      taskTimeout: sfn.Timeout.duration(Duration.minutes(2)),
    });

  const superseded = new sfn.Succeed(scope, 'Superseded', { comment: 'The domain was removed or a newer attempt took over' });
  const failed = new sfn.Fail(scope, 'Failed', { error: 'IssuanceFailed', cause: 'See the domain timeline for the reason' });
  // Recording the failure must not be what fails: retried, else the attempt would stay open.
  const recordFailure = step('RecordFailure', '$.failure')
    .addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), maxAttempts: 3, backoffRate: 2 })
    .addCatch(superseded, { errors: SUPERSEDED_ERRORS });
  const withCatch = (task: tasks.LambdaInvoke) =>
    task.addCatch(superseded, { errors: SUPERSEDED_ERRORS }).addCatch(recordFailure, { resultPath: '$.error' });

  const checkDns = withCatch(step('CheckDns', '$.dns'));
  const finalizeAndInstall = withCatch(step('FinalizeAndInstall', '$.certificate'));
  finalizeAndInstall.next(new sfn.Succeed(scope, 'Issued'));
  const checkValidation = withCatch(step('CheckValidation', '$.validation'));
  const waitForValidation = new sfn.Wait(scope, VALIDATION_POLL_STATE, {
    time: sfn.WaitTime.duration(Duration.seconds(VALIDATION_POLL_SECONDS)),
  });

  recordFailure.next(
    new sfn.Choice(scope, 'GiveUp?')
      .when(sfn.Condition.booleanEquals('$.failure.final', true), failed)
      .when(
        sfn.Condition.isPresent('$.failure.rateLimitedUntil'),
        new sfn.Wait(scope, RATE_LIMIT_WAIT_STATE, { time: sfn.WaitTime.timestampPath('$.failure.rateLimitedUntil') }).next(checkDns),
      )
      .otherwise(new sfn.Wait(scope, RETRY_WAIT_STATE, { time: sfn.WaitTime.secondsPath('$.failure.retryInSeconds') }).next(checkDns)),
  );

  const createOrder = withCatch(step('CreateOrder', '$.order'));
  const waitForBudget = new sfn.Wait(scope, BUDGET_WAIT_STATE, { time: sfn.WaitTime.timestampPath('$.order.deferredUntil') }).next(
    createOrder,
  );
  // AskCaToValidate looks a few times itself: a CA that decides within seconds needs no Wait state.
  const validated = new sfn.Choice(scope, 'Validated?')
    .when(sfn.Condition.stringEquals('$.validation.status', 'valid'), finalizeAndInstall)
    .otherwise(waitForValidation);
  waitForValidation.next(checkValidation).next(validated);
  checkDns
    .next(createOrder)
    .next(
      new sfn.Choice(scope, 'BudgetAvailable?')
        .when(sfn.Condition.isPresent('$.order.deferredUntil'), waitForBudget)
        .otherwise(
          new sfn.Choice(scope, 'AlreadyAuthorized?')
            .when(sfn.Condition.stringEquals('$.order.authorizationStatus', 'valid'), finalizeAndInstall)
            .otherwise(withCatch(step('AskCaToValidate', '$.validation')).next(validated)),
        ),
    );

  // Renewals found by one sweep start spread out, so the CA sees no burst.
  return new sfn.Choice(scope, 'StartLater?')
    .when(
      sfn.Condition.isPresent('$.startDelaySeconds'),
      new sfn.Wait(scope, 'SpreadRenewals', { time: sfn.WaitTime.secondsPath('$.startDelaySeconds') }).next(checkDns),
    )
    .otherwise(checkDns);
}
