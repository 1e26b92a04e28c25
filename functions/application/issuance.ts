// The issuance workflow's steps, one use case each. Every step runs at least once:
// a retried step finds its outcome recorded and does not repeat it. A step that
// fails records why (the domain's verdict) before the workflow's Catch takes over.
import { randomUUID } from 'node:crypto';
import { AcmeProblemError, CaUnreachableError, OrderNotFoundError, type Issuance } from '../adapters/acme/certificate-authority.ts';
import { databaseOf } from '../domain/database.ts';
import { anchoringRoot } from '../domain/uploaded-certificate.ts';
import { caUnreachable, classifyProblem, shortProblemType, type ClassifiedProblem } from '../domain/acme-problem.ts';
import { accountInUse, decideAccountInUse } from '../domain/ca-account.ts';
import { caaAnswers, judgeCaa } from '../domain/caa.ts';
import { retryDelayMs, type DomainState, type FailureReport, type StepOutcome } from '../domain/certificate-decider.ts';
import { checkPointing } from '../domain/dns-check.ts';
import { DomainNotFoundError, IssuanceError } from '../domain/errors.ts';
import { streamIds, type DnsAnswer, type Order } from '../domain/events.ts';
import { unexpectedError, unexplained, untrustedChains } from '../domain/failure-reasons.ts';
import { commonNameProblem } from '../domain/common-name.ts';
import type { IssuanceInput } from '../domain/issuance.ts';
import { emissionIntervalMs, orderDeferred, type OrderKind, type OrderRequest } from '../domain/rate-limits.ts';
import { validationLookDelays, validationOverdue } from '../domain/validation-deadline.ts';
import { correctLedger, countIssued, recordFailedAuthorization, takeOrderBudget } from './ledger.ts';
import type { EventLog, Ports } from './ports.ts';
import { selfCheck } from './self-check.ts';
import { execute, loadDomain, readDomain, requireOrder, transact, type LoadedDomain } from './streams.ts';

export interface Step {
  input: IssuanceInput;
  /** Failures the attempt had when this try began (0 for the first try): tells a retried step from the next try. */
  tryNumber: number;
  /** The execution's name: every event a step appends is correlated with it. */
  correlationId: string;
}

type FailureDetails = Pick<FailureReport, 'problem' | 'dnsAnswers'>;

/** Runs a step; whatever the CA said, in any step, is classified one way and recorded before Catch sees it. */
export async function runStep<P extends EventLog, Output>(
  ports: P,
  step: Step,
  body: (ports: P, step: Step) => Promise<Output>,
): Promise<Output> {
  try {
    return await body(ports, step);
  } catch (error) {
    if (error instanceof AcmeProblemError) {
      const { problem, retryAfter } = error;
      const classified = classifyProblem(problem, { hostname: step.input.hostname, now: new Date(), ...(retryAfter && { retryAfter }) });
      return failStep(ports, step, classified, { problem });
    }
    if (error instanceof CaUnreachableError)
      return failStep(ports, step, caUnreachable(error.message), { problem: { error: error.message } });
    if (error instanceof OrderNotFoundError) {
      // The next try orders afresh; what the old order proved no longer counts.
      await forgetOrder(ports, step);
      return failStep(ports, step, unexplained(`${error.message}.`), { problem: { error: error.message } });
    }
    throw error;
  }
}

/** Records why the attempt failed, then throws so the state machine's Catch takes over. */
async function failStep(
  ports: EventLog,
  { input, tryNumber, correlationId }: Step,
  failure: ClassifiedProblem,
  details: FailureDetails = {},
): Promise<never> {
  const report: FailureReport = { attempt: input.attempt, tryNumber, ...failure, ...details };
  await execute(ports, input, { type: 'RecordFailure', failure: report }, correlationId);
  throw new IssuanceError(failure.message, failure.reason, failure.retryable, details.problem);
}

/** CheckDns: does the name fit a certificate, does it point at the app as the public resolver sees it, may our CA issue? */
export async function checkDns(ports: EventLog & Pick<Ports, 'dns'>, step: Step) {
  const { input, correlationId } = step;
  const { hostname } = input;
  const tooLong = commonNameProblem(hostname);
  if (tooLong) return failStep(ports, step, tooLong);

  const domain = await readDomain(ports, input);
  const { dnsTarget = '', database } = domain.state.domain ?? {};
  // A database's name is in the platform's own zone, proved by DNS-01: there is nothing to point, only CAA to respect.
  const pointingAnswers: DnsAnswer[] = [];
  if (!database) {
    const [host, target] = await Promise.all([ports.dns.resolve(hostname), ports.dns.resolve(dnsTarget)]);
    const pointing = checkPointing({ hostname, dnsTarget, legacyTargetSuffixes: ports.settings.legacyTargetSuffixes }, host, target);
    if (!pointing.verified) {
      const { verified: _verified, answers, ...failure } = pointing;
      return failStep(ports, step, failure, { dnsAnswers: answers });
    }
    pointingAnswers.push(...pointing.answers);
  }
  const [lookup, account] = await Promise.all([ports.dns.relevantCaaSet(hostname), ports.events.read(streamIds.caAccount())]);
  const answers = [...pointingAnswers, ...caaAnswers(lookup)];
  const accountUri = accountInUse(account);
  const ca = {
    issuerDomainNames: ports.settings.caaIssuerDomainNames,
    validationMethod: database ? 'dns-01' : 'http-01',
    ...(accountUri && { accountUri }),
  } as const;
  const caa = judgeCaa({ hostname, lookup, ca, wildcard: false });
  if (!caa.allowed) {
    const { allowed: _allowed, ...failure } = caa;
    return failStep(ports, step, failure, { dnsAnswers: answers });
  }
  const outcome = { type: 'DnsVerified', data: { attempt: input.attempt, answers } } as const;
  await execute(ports, input, { type: 'RecordStepOutcomes', outcomes: [outcome] }, correlationId, domain);
  return { verified: true, answers };
}

/**
 * CreateOrder: one ACME order per try, and its challenge published in the same call (the
 * key authorization where the edge answers HTTP-01, or its digest in the platform's zone for
 * DNS-01); a retried step returns the order it made. The order first takes its tokens from the
 * ledger; when a bucket is empty no order is sent: the attempt waits (`deferredUntil`) until
 * the bucket refills, as it would after a 429.
 */
export async function createOrder(
  ports: EventLog & Pick<Ports, 'ca' | 'challenges' | 'dnsChallenges'>,
  step: Step,
): Promise<CreateOrderOutput> {
  const { input, correlationId } = step;
  const domain = await readDomain(ports, input);
  const { state } = domain;
  const recorded = state.attempt?.order;
  if (recorded) {
    let authorizationStatus;
    try {
      authorizationStatus = (await ports.ca.authorization(recorded.authorizationUrl, recorded.challengeType)).status;
    } catch (error) {
      if (!(error instanceof OrderNotFoundError)) throw error;
      // A restarted attempt after a CA-side reset: the order it recorded is gone, so this step makes a new one.
      await forgetOrder(ports, step);
      return createOrder(ports, step);
    }
    // Died between recording the order and publishing its challenge: published now.
    if (authorizationStatus === 'pending') await publishChallenge(ports, step, recorded, domain, []);
    return { ...recorded, authorizationStatus };
  }
  // A configuration the CA cannot serve fails here, before any token is taken.
  await ports.ca.checkConfiguration();
  const accountUrl = await recordAccountInUse(ports, correlationId);
  const replaces = state.attempt?.replaces;
  const request: OrderRequest = { accountUrl, names: [input.hostname], kind: orderKind(state, Date.now()), app: input.app };
  const budget = await takeOrderBudget(ports, input, input.attempt, request, correlationId, domain.history);
  if (!budget.allowed) {
    const until = new Date(budget.refillsAt).toISOString();
    const { message } = orderDeferred(ports.settings.rateLimits, input.hostname, budget.bucket, until);
    const deferral = { attempt: input.attempt, until, limit: budget.bucket.limit, bucket: budget.bucket.key, message };
    await execute(ports, input, { type: 'DeferOrder', deferral }, correlationId);
    // Every order held by this bucket is told the same refill: each wakes at a random moment within one token's time after it.
    const interval = emissionIntervalMs(ports.settings.rateLimits[budget.bucket.limit]);
    return { deferredUntil: new Date(budget.refillsAt + Math.floor(Math.random() * interval)).toISOString() };
  }
  try {
    const challengeType = state.domain?.database ? 'dns-01' : 'http-01';
    const { authorizationStatus, ...order } = await ports.ca.createOrder(input.hostname, { challengeType, ...(replaces && { replaces }) });
    const created = { type: 'OrderCreated', data: { attempt: input.attempt, ...order } } as const;
    // Already authorized (a reused authorization): nothing to publish, the certificate comes next.
    if (authorizationStatus === 'valid') await execute(ports, input, { type: 'RecordStepOutcomes', outcomes: [created] }, correlationId);
    else await publishChallenge(ports, step, order, undefined, [created]);
    return { ...order, authorizationStatus };
  } catch (error) {
    if (!(error instanceof AcmeProblemError)) throw error;
    const problemType = shortProblemType(error.problem);
    // Replaced already (by an earlier run of ours, or another client): this attempt goes on as a plain
    // renewal, through the ledger like any other order.
    if (replaces && problemType === 'alreadyReplaced') {
      await execute(ports, input, { type: 'DropReplaces', attempt: input.attempt }, correlationId);
      return createOrder(ports, step);
    }
    // A limit the ledger did not see (another client of the account, a CA-side change): the CA's word wins.
    if (problemType === 'rateLimited' && error.retryAfter) {
      const problem = { retryAfter: error.retryAfter, ...(error.problem.detail && { detail: error.problem.detail }) };
      await correctLedger(ports, request, problem, correlationId);
    }
    throw error;
  }
}

/** Publishes the order's challenge answer, then records it with what comes before it (`recordFirst`), in one append. */
async function publishChallenge(
  ports: EventLog & Pick<Ports, 'ca' | 'challenges' | 'dnsChallenges'>,
  { input, correlationId }: Step,
  { token, challengeType }: Order,
  known: LoadedDomain | undefined,
  recordFirst: StepOutcome[],
): Promise<void> {
  if (challengeType === 'dns-01') await ports.dnsChallenges.publish(input.hostname, await ports.ca.keyAuthorization(token, challengeType));
  else await ports.challenges.publish(token, await ports.ca.keyAuthorization(token), new Date());
  const published = { type: 'ChallengePublished', data: { attempt: input.attempt, token } } as const;
  await execute(ports, input, { type: 'RecordStepOutcomes', outcomes: [...recordFirst, published] }, correlationId, known);
}

type CreateOrderOutput = { deferredUntil: string } | (Order & { authorizationStatus: string });

/**
 * Inside the CA's window, an ARI renewal is exempt from every bucket; outside it the CA
 * counts it as a renewal of the same names, exempt only from the per-account and
 * per-registered-domain buckets; anything else is a new certificate.
 */
function orderKind(state: DomainState, now: number): OrderKind {
  const window = state.certificate?.renewalWindow;
  if (state.attempt?.replaces && window && now <= Date.parse(window.end)) return 'ari-renewal';
  return state.certificate ? 'renewal' : 'new';
}

/** The account this order goes out with, recorded for CheckDns (CAA accounturi) when it is new. */
async function recordAccountInUse(ports: EventLog & Pick<Ports, 'ca'>, correlationId: string): Promise<string> {
  const accountUrl = await ports.ca.accountUrl();
  const stream = { account: streamIds.caAccount() };
  await transact(ports, stream, ({ account }) => ({ account: decideAccountInUse(accountUrl, account) }), correlationId);
  return accountUrl;
}

/**
 * AskCaToValidate: our own look at the answer first (a failed CA validation costs budget,
 * this costs nothing), then the CA is asked, and looks at the authorization a few times
 * while it validates, sooner first: a CA that decides in a second needs no Wait state.
 * Only a pending challenge may be asked; a retried step finds it processing or valid.
 */
export async function askCaToValidate(ports: EventLog & Pick<Ports, 'ca' | 'dns' | 'challengeProbe' | 'dnsChallenges'>, step: Step) {
  const domain = await readDomain(ports, step.input);
  const order = requireOrder(domain.state, step.input);
  const verdict = await selfCheck(ports, step.input.hostname, order);
  if (!verdict.passed) {
    const { passed: _passed, ...failure } = verdict;
    return failStep(ports, step, failure);
  }
  const { authorizationUrl, challengeUrl, challengeType } = order;
  const challengeStatus = async () => (await ports.ca.authorization(authorizationUrl, challengeType)).challengeStatus;
  if ((await challengeStatus()) === 'pending') {
    try {
      await ports.ca.askToValidate(challengeUrl);
    } catch (error) {
      // The CA refuses to be asked twice: if the challenge moved on meanwhile, the earlier ask counted.
      if (!(error instanceof AcmeProblemError) || (await challengeStatus()) === 'pending') throw error;
    }
  }
  let looked = { status: 'pending' };
  for (const delay of validationLookDelays(ports.settings.validationLooks)) {
    await new Promise((resolve) => setTimeout(resolve, delay));
    looked = await lookAtValidation(ports, step, domain);
    if (looked.status !== 'pending' && looked.status !== 'processing') break;
  }
  return looked;
}

/** CheckValidation: one look at the authorization, after the state machine's Wait; it loops while the CA works. */
export async function checkValidation(ports: EventLog & Pick<Ports, 'ca' | 'dns' | 'challengeProbe' | 'dnsChallenges'>, step: Step) {
  // One read of the stream per poll: this step runs every couple of seconds while the CA works.
  return lookAtValidation(ports, step, await readDomain(ports, step.input));
}

/**
 * Where the CA's validation stands: invalid is explained and recorded as the attempt's failure;
 * valid is recorded by FinalizeAndInstall with the certificate (one append fewer).
 */
async function lookAtValidation(
  ports: EventLog & Pick<Ports, 'ca' | 'dns' | 'challengeProbe' | 'dnsChallenges'>,
  step: Step,
  domain: LoadedDomain,
): Promise<{ status: string }> {
  const { input, correlationId } = step;
  const order = requireOrder(domain.state, input);
  const { authorizationUrl, challengeType } = order;
  const { status, problem } = await ports.ca.authorization(authorizationUrl, challengeType);
  if (status === 'invalid') {
    await recordFailedAuthorization(ports, await ports.ca.accountUrl(), input.hostname, correlationId);
    // The CA's words say what failed; our own look at the answer says why, in terms a person can act on.
    const verdict = await selfCheck(ports, input.hostname, order);
    await removeDnsAnswer(ports, input.hostname, order);
    const classified = classifyProblem(problem ?? { type: 'unauthorized' }, {
      hostname: input.hostname,
      now: new Date(),
      selfCheck: verdict,
      ...(challengeType && { challengeType }),
    });
    return failStep(ports, step, classified, problem && { problem });
  }
  const overdue = validationOverdue(input.hostname, status, domain.state.attempt?.challengePublishedAt, new Date());
  if (overdue) return failStep(ports, step, overdue);
  if (status === 'valid') await removeDnsAnswer(ports, input.hostname, order);
  return { status };
}

/** A DNS-01 answer is taken out of the zone once the CA has looked; a retried step finds it gone. */
async function removeDnsAnswer(ports: Pick<Ports, 'ca' | 'dnsChallenges'>, hostname: string, { token, challengeType }: Order) {
  if (challengeType === 'dns-01') await ports.dnsChallenges.remove(hostname, await ports.ca.keyAuthorization(token, challengeType));
}

/**
 * FinalizeAndInstall: the certificate's private key is born, used for the CSR and
 * installed inside this one step. It never leaves it: not in output, events or logs.
 */
export async function finalizeAndInstall(ports: EventLog & Pick<Ports, 'ca' | 'certificates' | 'databases'>, step: Step) {
  const { input, correlationId } = step;
  let domain = await readDomain(ports, input);
  const { state } = domain;
  if (state.removed) throw new DomainNotFoundError(`${input.hostname} was removed`);
  if (state.attempt?.stage === 'installed' && state.certificate) return state.certificate;
  const { orderUrl } = requireOrder(state, input);
  const database = databaseOf(state);
  // A run that died installing left a certificate no event names, or none: either way its key died with it.
  const abandoned = state.attempt?.installing;
  if (abandoned) {
    // A renewal re-imported into the serving ARN: that one stays (it holds a certificate for the name either way).
    const serving = state.certificate?.certificateArn;
    const found = database ? [] : await ports.certificates.removeInstalledExcept(abandoned, serving);
    const command = { type: 'AbandonInstallation', attempt: input.attempt, installId: abandoned, removed: found } as const;
    domain = await execute(ports, input, command, correlationId, domain);
  }
  const issuance = await ports.ca.issue(orderUrl, input.hostname, { alternates: Boolean(database) });
  const { certificate } = issuance;
  // Recorded before the import: a crash between import and record is found by this id and cleaned up by the next run.
  const installId = randomUUID();
  domain = await execute(ports, input, { type: 'StartInstalling', attempt: input.attempt, installId, certificate }, correlationId, domain);
  const installation = database
    ? await installOnDatabase(ports, step, database, state, issuance)
    : {
        // A renewal re-imports into the ARN that is serving, so nothing that references it changes.
        certificateArn: await ports.certificates.install(
          { hostname: input.hostname, chainPem: issuance.chainPem, privateKeyPem: issuance.privateKeyPem, installId },
          state.certificate?.certificateArn,
        ),
        uninstall: (arn: string) => ports.certificates.remove(arn),
      };
  const { certificateArn, uninstall } = installation;
  try {
    const recorded = {
      attempt: input.attempt,
      certificate,
      certificateArn,
      ...('chains' in installation && { chains: installation.chains }),
    };
    await execute(ports, input, { type: 'RecordCertificate', ...recorded }, correlationId, domain);
  } catch (error) {
    // Not recorded (removed, turned off or superseded meanwhile, or the log failed): what no event
    // points at must not stay installed. A renewal replaced the serving one in place, which stays
    // while the log still names it; once the domain lost it (a disable raced this step), it goes.
    const now = await loadDomain(ports, input).catch(() => state);
    if (now.certificate?.certificateArn !== certificateArn) await uninstall(certificateArn);
    throw error;
  }
  // Only an order taken as an ARI renewal paid nothing when it was sent; any other paid its exact set then.
  if (state.attempt?.budgetKind === 'ari-renewal') await countIssued(ports, [input.hostname], correlationId);
  return { certificateArn, notAfter: certificate.notAfter };
}

/**
 * A database gets every chain the CA offered that leads to a trusted root, and serves the one
 * to the root it served before (a renewal does not rotate), else the CA's default.
 */
async function installOnDatabase(
  ports: EventLog & Pick<Ports, 'databases'>,
  step: Step,
  target: NonNullable<ReturnType<typeof databaseOf>>,
  state: DomainState,
  { chainPem, alternateChainPems, privateKeyPem, certificate }: Issuance,
) {
  const now = new Date();
  const chains = [chainPem, ...alternateChainPems].flatMap((pem) => {
    const root = anchoringRoot(pem, ports.settings.trustedRootsPem, now);
    return root ? [{ root: root.name, chainPem: pem }] : [];
  });
  if (chains.length === 0) return failStep(ports, step, untrustedChains(target.hostname));
  const previous = state.certificate?.servedRoot;
  const servedRoot = chains.find((chain) => chain.root === previous)?.root ?? chains[0]!.root;
  const databaseTarget = { app: target.app, database: target.database.name, hostname: target.hostname };
  const location = await ports.databases.install(databaseTarget, { privateKeyPem, chains, servedRoot, notAfter: certificate.notAfter });
  return {
    certificateArn: location,
    chains: { servedRoot, availableRoots: chains.map((chain) => chain.root) },
    uninstall: (where: string) => ports.databases.revert(databaseTarget, where),
  };
}

/** The CA forgot one of the order's URLs: the whole recorded order goes. */
async function forgetOrder(ports: EventLog, { input, correlationId }: Step): Promise<void> {
  const orderUrl = (await loadDomain(ports, input)).attempt?.order?.orderUrl;
  if (orderUrl) await execute(ports, input, { type: 'ForgetOrder', attempt: input.attempt, orderUrl }, correlationId);
}

/** What the workflow's Catch caught: Step Functions' error name and cause. */
export interface CaughtError {
  Error?: string;
  Cause?: string;
}

/**
 * RecordFailure: every Catch lands here. A step that knew why it failed has already
 * recorded it; anything else (a bug, a timeout, an outage) is recorded from the error.
 * Says whether to give up, and how long to wait before the next try.
 */
export async function recordFailure(ports: EventLog, { input, tryNumber, correlationId }: Step, caught: CaughtError = {}) {
  const { Error: name = 'UnknownError', Cause: cause = '' } = caught;
  const failure = {
    attempt: input.attempt,
    tryNumber,
    ...unexpectedError(name, causeMessage(cause)),
    problem: { error: name, cause: causeMessage(cause) },
  };
  const { state } = await execute(ports, input, { type: 'RecordFailure', failure }, correlationId);
  const { final = true, rateLimitedUntil } = state.attempt?.failure ?? {};
  // The state machine waits (until the rate limit ends, or for the backoff); `failures`
  // numbers the next try, so its steps can tell a retry of theirs from a new try.
  return {
    final,
    failures: state.attempt?.failures ?? 0,
    retryInSeconds: Math.ceil(retryDelayMs(state, ports.settings.retryPolicy) / 1000),
    ...(rateLimitedUntil && { rateLimitedUntil }),
  };
}

/** Lambda wraps the error as JSON ({errorMessage, ...}); the local runner passes the message. */
function causeMessage(cause: string): string {
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    return parsed.errorMessage ?? cause;
  } catch {
    return cause;
  }
}

/** The HTTP-01 answer the edge serves for a token, while it lives. */
export function answerChallenge(ports: Pick<Ports, 'challenges'>, token: string): Promise<string | undefined> {
  return ports.challenges.answer(token, new Date());
}
