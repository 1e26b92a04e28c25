// The decider of one domain's certificate stream: decide(command, state, now, policy) -> events,
// evolve(state, event) -> state. Steps run at least once, so every command that a
// step issues is idempotent: an outcome the attempt already has decides no event.
import {
  streamIds,
  type DatabaseRef,
  type DnsAnswer,
  type DomainEvent,
  type IssuanceTrigger,
  type IssuedCertificate,
  type Order,
  type RenewalInfo,
} from './events.ts';
import type { Failure, FailureReason } from './failure-reasons.ts';
import type { OrderKind } from './rate-limits.ts';
import { DomainNotFoundError, InvalidInputError, StaleAttemptError } from './errors.ts';
import { expiryNoticeDue, keepNotice, MANAGED_EXPIRY_THRESHOLDS_DAYS, notificationIds, renewalLateAt, type SentNotice } from './notices.ts';
import { chooseRenewalTime, fallbackRenewsAt, nextRenewalCheck, type RenewalWindow } from './renewal.ts';

/** How far the current attempt got, in workflow order. */
const STAGES = ['requested', 'dns-verified', 'order-created', 'challenge-published', 'challenge-validated', 'installed'] as const;
export type Stage = (typeof STAGES)[number];

const STAGE_REACHED_BY: Partial<Record<DomainEvent['type'], Stage>> = {
  DnsVerified: 'dns-verified',
  OrderCreated: 'order-created',
  ChallengePublished: 'challenge-published',
  ChallengeValidated: 'challenge-validated',
  CertificateInstalled: 'installed',
};

/** The failure an attempt last had, as its status shows it. */
export interface AttemptFailure {
  reason?: FailureReason;
  message: string;
  final: boolean;
  rateLimitedUntil?: string;
}

export interface Attempt {
  number: number;
  trigger: IssuanceTrigger;
  stage: Stage;
  order?: Order;
  /** The latest failure of this attempt; cleared when it succeeds. */
  failure?: AttemptFailure;
  /** When this attempt first failed: the failing window counts from here. */
  failingSince?: string;
  failures: number;
  /** When the CA could first be asked to validate: a validation that takes too long is given up. */
  challengePublishedAt?: string;
  /** Set by CertificateIssued, for the certificate installed next. */
  issuer?: string;
  ariId?: string;
  /** An ARI renewal names the certificate it replaces. */
  replaces?: string;
  /** Set by RateLimited: the CA's Retry-After, for the failure recorded with it. */
  rateLimitedUntil?: string;
  /** This try's order has taken its rate-limit tokens: a retried CreateOrder must not take them again. */
  budgetTaken?: boolean;
  /** As what the tokens were taken: an ARI renewal takes none. */
  budgetKind?: OrderKind;
  /** The ledger holds this try's order until a bucket refills (no CA call was made). */
  deferral?: { until: string; message: string };
  /** True once the attempt ended (installed, or failed for good). */
  closed: boolean;
  /** Executions the reconciler started again for this attempt. */
  restarts: number;
  /** When it was requested. */
  openedAt?: string;
  /** An install began under this id and was not recorded yet. */
  installing?: string;
  lastEventType: DomainEvent['type'];
}

export interface InstalledCertificate {
  certificateArn: string;
  notBefore: string;
  notAfter: string;
  issuer: string;
  /** When it renews: inside the CA's ARI window when there is one, by the fixed rule otherwise. */
  renewsAt: string;
  /** RFC 9773: its identifier, the CA's window for it, why the window moved, when to look again. */
  ariId?: string;
  renewalWindow?: RenewalWindow;
  explanationUrl?: string;
  renewalCheckAt?: string;
  /** A database's: the root whose chain it serves, and every root the CA offered a chain to. */
  servedRoot?: string;
  availableRoots?: string[];
  /** Expiry notices sent for this certificate: the thresholds, in days. */
  expiryNotices: number[];
}

export interface DomainState {
  version: number;
  /** A custom domain points at `dnsTarget`; a database's hostname is in the platform's own zone. */
  domain?: { app: string; hostname: string; dnsTarget?: string; database?: DatabaseRef };
  removed: boolean;
  attempt?: Attempt;
  certificate?: InstalledCertificate;
  /** Since when the domain has failed without a certificate being installed, across attempts. */
  failingSince?: string;
  /** Owners were told about this failing episode. */
  failureNotified: boolean;
  /** What owners were told, latest last. */
  notices: SentNotice[];
  /** Since when the domain has waited for a certificate (the first, or the first after automation was off). */
  waitingSince?: string;
  /** When the domain was removed (the platform's event time, when it came from one). */
  removedAt?: string;
  /** When the platform added it, to tell a late removal from a current one. */
  addedAt?: string;
  /** Automation was turned off for the app: nothing runs until an attempt is requested. */
  automationOff: boolean;
  /** Certificates that should be gone but are still in use: the sweep retries removing them. */
  pendingRemovals: Array<{ certificateArn: string; reason: string; retryAt: string }>;
  updatedAt?: string;
}

export const initialState: DomainState = {
  version: 0,
  removed: false,
  failureNotified: false,
  notices: [],
  automationOff: false,
  pendingRemovals: [],
};

/** Removing the certificate failed because it is in use: recorded, and retried at `retryAt`. */
export interface RemovalDeferral {
  reason: string;
  retryAt: string;
}

/** Progress a workflow step reports; each one is a single event of the attempt. */
export type StepOutcome = Extract<DomainEvent, { type: 'DnsVerified' | 'OrderCreated' | 'ChallengePublished' | 'ChallengeValidated' }>;

/** How long a domain may keep failing before we stop, and how long to wait between tries. */
export interface RetryPolicy {
  failingWindowMs: number;
  firstRetryDelayMs: number;
  maxRetryDelayMs: number;
  /** Failing this long, a domain's owners are told once. */
  notifyAfterMs: number;
}

export interface FailureReport extends Failure {
  attempt: number;
  /**
   * Which try of the attempt failed: the number of failures it had when the try began
   * (the workflow carries it). Tells a retried step from the next try after a wait.
   */
  tryNumber: number;
  problem?: unknown;
  /** The DNS answers, when the failure is the DNS pre-flight's verdict. */
  dnsAnswers?: DnsAnswer[];
  rateLimitedUntil?: string;
}

export type DomainCommand =
  /** `platformEventTime` orders adds and removes that the platform delivered out of order. */
  | { type: 'AddDomain'; app: string; hostname: string; dnsTarget: string; platformEventTime?: string }
  | { type: 'AddDatabase'; app: string; database: string; hostname: string; port: number; platformEventTime?: string }
  /** `database`: a removal that arrives before its add still records that a database went. */
  | {
      type: 'RemoveDomain';
      reason: 'removed' | 'app-deleted';
      platformEventTime?: string;
      database?: boolean;
      removalDeferred?: RemovalDeferral;
    }
  /** A database serves the chain to another of the roots its certificate was offered with. */
  | { type: 'ServeRoot'; root: string }
  /** Automation went off for the app: the managed certificate goes, a running attempt ends. */
  | { type: 'TurnAutomationOff'; removalDeferred?: RemovalDeferral }
  /** The sweep's retry of a deferred removal: gone now, or deferred again. */
  | { type: 'RecordCertificateRemoval'; certificateArn: string; deferred?: RemovalDeferral }
  | { type: 'RequestIssuance'; trigger: IssuanceTrigger }
  /** Progress in workflow order; a retried step finds what it recorded already and records the rest. */
  | { type: 'RecordStepOutcomes'; outcomes: StepOutcome[] }
  | { type: 'RecordFailure'; failure: FailureReport }
  /** A database's certificate also says which root's chain it serves, of those offered. */
  | {
      type: 'RecordCertificate';
      attempt: number;
      certificate: IssuedCertificate;
      certificateArn: string;
      chains?: { servedRoot: string; availableRoots: string[] };
    }
  | { type: 'TakeOrderBudget'; attempt: number; kind?: OrderKind }
  | { type: 'DeferOrder'; deferral: Extract<DomainEvent, { type: 'OrderDeferred' }>['data'] }
  /** The CA says the certificate was replaced already: this attempt renews as a plain renewal. */
  | { type: 'DropReplaces'; attempt: number }
  /** The CA answered that it does not know the recorded order. */
  | { type: 'ForgetOrder'; attempt: number; orderUrl: string }
  /** The attempt is open and nothing runs it: the reconciler starts it again. */
  | { type: 'RestartExecution'; attempt: number; checkedRestarts: number }
  /** The CA issued this certificate; it is about to be installed under `installId`. */
  | { type: 'StartInstalling'; attempt: number; installId: string; certificate: IssuedCertificate }
  | { type: 'AbandonInstallation'; attempt: number; installId: string; removed: string[] }
  /** The sweep's questions: is a renewal due, has the domain failed long enough to tell someone? */
  | { type: 'RenewIfDue' }
  /** What the CA's renewal information says now; `random` picks the instant inside a new window. */
  | {
      type: 'RecordRenewalInfo';
      ariId: string;
      /** Absent when the CA offers no ARI. */
      window?: RenewalWindow;
      explanationUrl?: string;
      retryAfter?: string;
      random: number;
    }
  | { type: 'NotifyIfFailingTooLong' }
  /** The sweep's other question: is the serving certificate close to expiry, not renewed? */
  | { type: 'NotifyIfExpiring' };

export function decide(command: DomainCommand, state: DomainState, now: Date, policy: RetryPolicy): DomainEvent[] {
  switch (command.type) {
    case 'AddDomain': {
      const { type: _type, platformEventTime, ...domain } = command;
      if (state.domain && !state.removed) return seen(state.addedAt, 'added', platformEventTime);
      if (!addable(state, platformEventTime)) return [];
      return [{ type: 'DomainAdded', data: { ...domain, ...(platformEventTime && { platformEventTime }) } }];
    }
    case 'AddDatabase': {
      const { type: _type, platformEventTime, ...database } = command;
      if (state.domain && !state.removed) return seen(state.addedAt, 'added', platformEventTime);
      if (!addable(state, platformEventTime)) return [];
      return [{ type: 'DatabaseAdded', data: { ...database, ...(platformEventTime && { platformEventTime }) } }];
    }
    case 'RemoveDomain': {
      if (state.removed) return seen(state.removedAt, 'removed', command.platformEventTime);
      const { reason, platformEventTime } = command;
      // A removal older than the add already recorded arrived late: the add stands.
      if (state.addedAt && platformEventTime && Date.parse(platformEventTime) < Date.parse(state.addedAt)) return [];
      const data = { reason, ...(platformEventTime && { platformEventTime }) };
      const database = state.domain ? state.domain.database !== undefined : command.database;
      const removed: DomainEvent = database ? { type: 'DatabaseRemoved', data } : { type: 'DomainRemoved', data };
      if (!state.certificate) return [removed];
      return [certificateGoes(state.certificate.certificateArn, 'domain-removed', command.removalDeferred), removed];
    }
    case 'TurnAutomationOff': {
      const events: DomainEvent[] = [];
      const reason = state.domain?.database ? 'enhanced-certificates-disabled' : 'acm-disabled';
      if (state.certificate) events.push(certificateGoes(state.certificate.certificateArn, reason, command.removalDeferred));
      if (state.attempt && !state.attempt.closed)
        events.push({ type: 'IssuanceCancelled', data: { attempt: state.attempt.number, reason } });
      return events;
    }
    case 'RequestIssuance':
      requireDomain(state);
      // Never two attempts at once: a request while one runs is the same request.
      if (state.attempt && !state.attempt.closed) return [];
      // Enabling what is on and served changes nothing; enabling again after a renewal failed for good retries it.
      const served = state.certificate && !state.attempt?.failure?.final;
      if (command.trigger === 'enhanced-certificates-enabled' && !state.automationOff && served) return [];
      return [nextAttempt(state, command.trigger)];
    case 'ServeRoot': {
      requireDomain(state);
      const certificate = state.certificate;
      if (!certificate?.availableRoots) throw new InvalidInputError('root', 'the database has no certificate issued yet to rotate');
      if (!certificate.availableRoots.includes(command.root)) {
        throw new InvalidInputError(
          'root',
          `must be one of the roots offered for this certificate: ${certificate.availableRoots.join(', ')}`,
        );
      }
      if (certificate.servedRoot === command.root) return [];
      return [{ type: 'ServedRootChanged', data: { certificateArn: certificate.certificateArn, root: command.root } }];
    }
    case 'RecordStepOutcomes':
      return command.outcomes.filter((outcome) => !alreadyRecorded(requireCurrentAttempt(state, outcome.data.attempt), outcome.type));
    case 'RecordFailure':
      return decideFailure(command.failure, state, now, policy);
    case 'RecordCertificate': {
      const attempt = requireCurrentAttempt(state, command.attempt);
      if (alreadyRecorded(attempt, 'CertificateInstalled')) return [];
      const { notBefore, notAfter } = command.certificate;
      return [
        {
          type: 'CertificateInstalled',
          data: { attempt: command.attempt, certificateArn: command.certificateArn, notBefore, notAfter, ...command.chains },
        },
      ];
    }
    case 'TakeOrderBudget': {
      const attempt = requireCurrentAttempt(state, command.attempt);
      if (attempt.closed) throw new StaleAttemptError(`attempt ${attempt.number} has ended`);
      const { kind } = command;
      return attempt.budgetTaken || attempt.order
        ? []
        : [{ type: 'OrderBudgetTaken', data: { attempt: command.attempt, ...(kind && { kind }) } }];
    }
    case 'DeferOrder': {
      const attempt = requireCurrentAttempt(state, command.deferral.attempt);
      if (attempt.closed) throw new StaleAttemptError(`attempt ${attempt.number} has ended`);
      return attempt.deferral?.until === command.deferral.until ? [] : [{ type: 'OrderDeferred', data: command.deferral }];
    }
    case 'DropReplaces': {
      const attempt = requireCurrentAttempt(state, command.attempt);
      return attempt.replaces ? [{ type: 'ReplacementRefused', data: { attempt: command.attempt, replaces: attempt.replaces } }] : [];
    }
    case 'RecordCertificateRemoval': {
      const pending = state.pendingRemovals.find((removal) => removal.certificateArn === command.certificateArn);
      if (!pending) return [];
      const { certificateArn, deferred } = command;
      if (!deferred) return [{ type: 'DeferredCertificateRemoved', data: { certificateArn } }];
      return [{ type: 'CertificateRemovalDeferred', data: { certificateArn, because: 'domain-removed', ...deferred } }];
    }
    case 'StartInstalling': {
      const attempt = requireCurrentAttempt(state, command.attempt);
      if (attempt.closed) throw new StaleAttemptError(`attempt ${attempt.number} has ended`);
      if (attempt.installing === command.installId) return [];
      // The CA's verdict on a published challenge is recorded here, in the same append: it was valid, or the order would not be ready.
      const validated = attempt.stage === 'challenge-published' && attempt.order;
      return [
        ...(validated
          ? [{ type: 'ChallengeValidated', data: { attempt: command.attempt, challengeUrl: validated.challengeUrl } } as const]
          : []),
        { type: 'CertificateIssued', data: { attempt: command.attempt, ...command.certificate } },
        { type: 'CertificateInstalling', data: { attempt: command.attempt, installId: command.installId } },
      ];
    }
    case 'AbandonInstallation': {
      const { installing } = requireCurrentAttempt(state, command.attempt);
      return installing === command.installId
        ? [{ type: 'InstallationAbandoned', data: { attempt: command.attempt, installId: installing, removed: command.removed } }]
        : [];
    }
    case 'ForgetOrder': {
      const attempt = requireCurrentAttempt(state, command.attempt);
      if (attempt.closed || attempt.order?.orderUrl !== command.orderUrl) return [];
      return [{ type: 'OrderForgottenByCa', data: { attempt: command.attempt, orderUrl: command.orderUrl } }];
    }
    case 'RestartExecution': {
      const attempt = requireCurrentAttempt(state, command.attempt);
      // Another reconciler restarted it since this one looked: that execution runs it.
      if (attempt.closed || attempt.restarts !== command.checkedRestarts) return [];
      return [{ type: 'ExecutionRestarted', data: { attempt: command.attempt, restart: attempt.restarts + 1 } }];
    }
    case 'RenewIfDue': {
      const certificate = state.certificate;
      if (!certificate || state.removed || (state.attempt && !state.attempt.closed)) return [];
      const due = certificate.renewsAt;
      // A renewal that failed for good waits for a refresh, not for the next sweep.
      if (Date.parse(due) > now.getTime() || state.attempt?.failure?.final) return [];
      return [
        { type: 'RenewalDue', data: { certificateArn: certificate.certificateArn, notAfter: certificate.notAfter, renewsAt: due } },
        // Inside the CA's window, the renewal names what it replaces: exempt from every rate limit.
        nextAttempt(state, 'renewal', certificate.renewalWindow && certificate.ariId),
      ];
    }
    case 'RecordRenewalInfo': {
      const certificate = state.certificate;
      if (!certificate || state.removed || certificate.ariId !== command.ariId) return [];
      const { ariId, window, explanationUrl, retryAfter, random } = command;
      const sameWindow = certificate.renewalWindow?.start === window?.start && certificate.renewalWindow?.end === window?.end;
      const renewsAt = !window || sameWindow ? certificate.renewsAt : chooseRenewalTime(window, now, random);
      const info: RenewalInfo = {
        ariId,
        ...(window && { window }),
        renewsAt,
        nextCheckAt: nextRenewalCheck(now, retryAfter),
        ...(explanationUrl && { explanationUrl }),
      };
      return [{ type: 'RenewalInfoChecked', data: info }];
    }
    case 'NotifyIfFailingTooLong': {
      const since = state.failingSince;
      if (!since || state.failureNotified || state.removed || now.getTime() - Date.parse(since) < policy.notifyAfterMs) return [];
      return [{ type: 'FailureNotified', data: { failingSince: since } }];
    }
    case 'NotifyIfExpiring': {
      const certificate = state.certificate;
      if (!certificate || state.removed || !state.domain) return [];
      const { certificateArn, notAfter: expiresAt, expiryNotices, renewsAt } = certificate;
      if (now.getTime() < Date.parse(renewalLateAt(renewsAt, expiresAt))) return [];
      // A renewal under way that has neither failed nor waits for the CA's budget is renewing.
      const attempt = state.attempt;
      if (attempt && !attempt.closed && !attempt.failure && !attempt.deferral) return [];
      const due = expiryNoticeDue(expiresAt, expiryNotices, MANAGED_EXPIRY_THRESHOLDS_DAYS, now);
      if (!due) return [];
      const streamId = streamIds.domain(state.domain.app, state.domain.hostname);
      const notificationId = notificationIds.expiring(streamId, certificateArn, due.threshold);
      return [{ type: 'ExpiryNoticeSent', data: { notificationId, certificateArn, expiresAt, ...due } }];
    }
  }
}

/** The certificate goes now, or (in use by a TLS terminator) is recorded as still to go. */
function certificateGoes(
  certificateArn: string,
  because: Extract<DomainEvent, { type: 'CertificateRemoved' }>['data']['reason'],
  deferred: RemovalDeferral | undefined,
): DomainEvent {
  return deferred
    ? { type: 'CertificateRemovalDeferred', data: { certificateArn, because, ...deferred } }
    : { type: 'CertificateRemoved', data: { certificateArn, reason: because } };
}

/** Not added yet (or removed), and not an add older than the removal already recorded (which arrived late). */
function addable(state: DomainState, platformEventTime: string | undefined): boolean {
  return !(state.removedAt && platformEventTime && Date.parse(platformEventTime) <= Date.parse(state.removedAt));
}

export const isAddition = (event: DomainEvent) => event.type === 'DomainAdded' || event.type === 'DatabaseAdded';
export const isRemoval = (event: DomainEvent) => event.type === 'DomainRemoved' || event.type === 'DatabaseRemoved';

/** A repeat that changes nothing still counts when it is newer than what the stream knows. */
function seen(known: string | undefined, change: 'added' | 'removed', platformEventTime: string | undefined): DomainEvent[] {
  if (!platformEventTime || (known && Date.parse(platformEventTime) <= Date.parse(known))) return [];
  return [{ type: 'PlatformEventSeen', data: { change, platformEventTime } }];
}

function nextAttempt(state: DomainState, trigger: IssuanceTrigger, replaces?: string): DomainEvent {
  return { type: 'IssuanceRequested', data: { attempt: (state.attempt?.number ?? 0) + 1, trigger, ...(replaces && { replaces }) } };
}

function decideFailure(report: FailureReport, state: DomainState, now: Date, policy: RetryPolicy): DomainEvent[] {
  const { attempt: number, tryNumber: _tryNumber, dnsAnswers, rateLimitedUntil, problem, ...failure } = report;
  const attempt = requireCurrentAttempt(state, number);
  // A retried step reports the failure of a try that already has one.
  if (attempt.closed || attempt.failures > report.tryNumber) return [];
  const failingFor = now.getTime() - Date.parse(attempt.failingSince ?? now.toISOString());
  // Waiting out a rate limit is not failing: the window does not end it.
  const final = !failure.retryable || (!rateLimitedUntil && failingFor >= policy.failingWindowMs);
  const events: DomainEvent[] = [];
  if (dnsAnswers && failure.reason) {
    events.push({
      type: 'DnsCheckFailed',
      data: { attempt: number, reason: failure.reason, message: failure.message, answers: dnsAnswers },
    });
  }
  if (rateLimitedUntil)
    events.push({ type: 'RateLimited', data: { attempt: number, until: rateLimitedUntil, ...(problem !== undefined && { problem }) } });
  events.push({ type: 'IssuanceFailed', data: { attempt: number, ...failure, ...(problem !== undefined && { problem }), final } });
  return events;
}

function requireDomain(state: DomainState): NonNullable<DomainState['domain']> {
  if (!state.domain || state.removed) throw new DomainNotFoundError('the domain is not managed (never added, or removed)');
  return state.domain;
}

function requireCurrentAttempt(state: DomainState, attemptNumber: number): Attempt {
  requireDomain(state);
  const attempt = state.attempt;
  if (!attempt || attempt.number !== attemptNumber) {
    throw new StaleAttemptError(`attempt ${attemptNumber} is not the current attempt (${attempt?.number ?? 'none'})`);
  }
  return attempt;
}

/**
 * A retried step must not record its progress twice. An attempt that ended without
 * getting this far (failed for good, cancelled) takes no more progress: the step is stale.
 */
function alreadyRecorded(attempt: Attempt, type: keyof typeof STAGE_REACHED_BY): boolean {
  const reached = STAGES.indexOf(attempt.stage) >= STAGES.indexOf(STAGE_REACHED_BY[type]!);
  if (attempt.closed && !reached) throw new StaleAttemptError(`attempt ${attempt.number} has ended`);
  return reached;
}

export function evolve(state: DomainState, event: DomainEvent & { at?: string }): DomainState {
  const next: DomainState = { ...state, version: state.version + 1, updatedAt: event.at ?? state.updatedAt };
  switch (event.type) {
    case 'DomainAdded': {
      const { platformEventTime, ...domain } = event.data;
      // A domain added again starts afresh: no failing episode, no removal standing.
      return {
        ...next,
        domain,
        removed: false,
        automationOff: false,
        failingSince: undefined,
        failureNotified: false,
        addedAt: platformEventTime,
      };
    }
    case 'DatabaseAdded': {
      const { platformEventTime, database, port, ...names } = event.data;
      // Enhanced certificates start off: the owner enables them.
      return {
        ...next,
        domain: { ...names, database: { name: database, port } },
        removed: false,
        automationOff: true,
        failingSince: undefined,
        failureNotified: false,
        addedAt: platformEventTime,
      };
    }
    case 'IssuanceCancelled':
      return { ...withAttempt(next, event.type, { closed: true, failure: undefined }), automationOff: true };
    case 'DomainRemoved':
    case 'DatabaseRemoved':
      // Removal ends whatever attempt was running: a later re-add starts a fresh one.
      return {
        ...withAttempt(next, event.type, { closed: true }),
        removed: true,
        certificate: undefined,
        waitingSince: undefined,
        removedAt: event.data.platformEventTime ?? event.at,
      };
    case 'CertificateRemoved':
      return { ...next, certificate: undefined, automationOff: event.data.reason !== 'domain-removed' };
    case 'IssuanceRequested':
      return {
        ...next,
        automationOff: false,
        waitingSince: state.certificate ? undefined : (state.waitingSince ?? event.at),
        attempt: {
          number: event.data.attempt,
          trigger: event.data.trigger,
          stage: 'requested',
          closed: false,
          failures: 0,
          restarts: 0,
          lastEventType: event.type,
          ...(event.at && { openedAt: event.at }),
          ...(event.data.replaces && { replaces: event.data.replaces }),
        },
      };
    case 'CertificateInstalled': {
      const { certificateArn, notBefore, notAfter, servedRoot, availableRoots } = event.data;
      const ariId = state.attempt?.ariId;
      return {
        ...withAttempt(next, event.type, { stage: 'installed', closed: true, failure: undefined, installing: undefined }),
        certificate: {
          certificateArn,
          notBefore,
          notAfter,
          issuer: state.attempt?.issuer ?? '',
          renewsAt: fallbackRenewsAt({ notBefore, notAfter }),
          expiryNotices: [],
          // A certificate with an ARI identifier asks the CA for its window at the next sweep.
          ...(ariId && { ariId, renewalCheckAt: event.at ?? notBefore }),
          ...(servedRoot && { servedRoot, availableRoots }),
        },
        failingSince: undefined,
        failureNotified: false,
        waitingSince: undefined,
      };
    }
    case 'OrderCreated': {
      const { attempt: _attempt, ...order } = event.data;
      return withAttempt(next, event.type, { stage: 'order-created', order, deferral: undefined });
    }
    case 'ReplacementRefused':
      // Budget taken for an exempt ARI order paid for nothing: the plain renewal takes its own.
      return withAttempt(next, event.type, {
        replaces: undefined,
        budgetTaken: state.attempt?.budgetKind === 'ari-renewal' ? false : state.attempt?.budgetTaken,
      });
    case 'OrderBudgetTaken':
      return withAttempt(next, event.type, { budgetTaken: true, budgetKind: event.data.kind, deferral: undefined });
    case 'OrderDeferred':
      // Waiting for the CA's budget is not failing: the failing window and the owners' notice start again after.
      return {
        ...withAttempt(next, event.type, {
          deferral: { until: event.data.until, message: event.data.message },
          failure: undefined,
          failingSince: undefined,
        }),
        failingSince: undefined,
        failureNotified: false,
      };
    case 'OrderForgottenByCa': {
      // The next order is a new one, through the ledger; what was published for the old one no longer counts.
      const stage =
        state.attempt && STAGES.indexOf(state.attempt.stage) > STAGES.indexOf('dns-verified') ? 'dns-verified' : state.attempt?.stage;
      return withAttempt(next, event.type, { order: undefined, budgetTaken: false, ...(stage && { stage }) });
    }
    case 'CertificateInstalling':
      return withAttempt(next, event.type, { installing: event.data.installId });
    case 'InstallationAbandoned':
      return withAttempt(next, event.type, { installing: undefined });
    case 'ExecutionRestarted':
      return withAttempt(next, event.type, { restarts: event.data.restart });
    case 'ChallengePublished':
      return withAttempt(next, event.type, { stage: 'challenge-published', challengePublishedAt: event.at });
    case 'DnsVerified':
    case 'ChallengeValidated':
      return withAttempt(next, event.type, { stage: STAGE_REACHED_BY[event.type] });
    case 'RateLimited':
      return withAttempt(next, event.type, { rateLimitedUntil: event.data.until });
    case 'CertificateIssued':
      return withAttempt(next, event.type, { issuer: event.data.issuer, ...(event.data.ariId && { ariId: event.data.ariId }) });
    case 'RenewalInfoChecked': {
      if (!state.certificate) return next;
      const { window, explanationUrl, renewsAt, nextCheckAt } = event.data;
      return {
        ...next,
        certificate: { ...state.certificate, renewalWindow: window, renewsAt, renewalCheckAt: nextCheckAt, explanationUrl },
      };
    }
    case 'DnsCheckFailed':
      return withAttempt(next, event.type, {});
    case 'IssuanceFailed': {
      const { reason, message, final } = event.data;
      const attempt = next.attempt;
      // RateLimited is recorded just before its IssuanceFailed.
      const rateLimitedUntil = attempt?.lastEventType === 'RateLimited' ? attempt.rateLimitedUntil : undefined;
      // A failure that is not final restarts the attempt from the DNS check.
      return {
        ...withAttempt(next, event.type, {
          stage: 'requested',
          order: undefined,
          // The next try orders anew and pays for it; tokens taken for an order never sent stay with the attempt.
          budgetTaken: attempt?.order ? false : attempt?.budgetTaken,
          deferral: undefined,
          failure: { reason, message, final, ...(rateLimitedUntil && { rateLimitedUntil }) },
          closed: final,
          failingSince: attempt?.failingSince ?? event.at,
          failures: (attempt?.failures ?? 0) + 1,
        }),
        failingSince: state.failingSince ?? event.at,
      };
    }
    case 'CertificateRemovalDeferred': {
      const { certificateArn, because, reason, retryAt } = event.data;
      const others = state.pendingRemovals.filter((removal) => removal.certificateArn !== certificateArn);
      // It no longer serves the domain as far as we are concerned; only its deletion is outstanding.
      const detached = state.certificate?.certificateArn === certificateArn;
      return {
        ...next,
        pendingRemovals: [...others, { certificateArn, reason, retryAt }],
        ...(detached && { certificate: undefined, automationOff: because !== 'domain-removed' }),
      };
    }
    case 'DeferredCertificateRemoved':
      return { ...next, pendingRemovals: state.pendingRemovals.filter((removal) => removal.certificateArn !== event.data.certificateArn) };
    case 'PlatformEventSeen':
      return event.data.change === 'added'
        ? { ...next, addedAt: event.data.platformEventTime }
        : { ...next, removedAt: event.data.platformEventTime };
    case 'ServedRootChanged':
      return state.certificate ? { ...next, certificate: { ...state.certificate, servedRoot: event.data.root } } : next;
    case 'RenewalDue':
      return next;
    case 'FailureNotified': {
      const notificationId = state.domain
        ? notificationIds.failing(streamIds.domain(state.domain.app, state.domain.hostname), event.data.failingSince)
        : '';
      const notice: SentNotice = { notificationId, type: 'CertificateIssuanceFailing', sentAt: event.at ?? '' };
      return { ...next, failureNotified: true, notices: keepNotice(state.notices, notice) };
    }
    case 'ExpiryNoticeSent': {
      const { notificationId, certificateArn, expiresAt, threshold, daysLeft } = event.data;
      const notice: SentNotice = { notificationId, type: 'CertificateExpiring', sentAt: event.at ?? '', threshold, daysLeft, expiresAt };
      const certificate =
        state.certificate?.certificateArn === certificateArn
          ? { ...state.certificate, expiryNotices: [...state.certificate.expiryNotices, threshold] }
          : state.certificate;
      return { ...next, certificate, notices: keepNotice(state.notices, notice) };
    }
  }
}

function withAttempt(state: DomainState, lastEventType: DomainEvent['type'], change: Partial<Attempt>): DomainState {
  if (!state.attempt) return state;
  return { ...state, attempt: { ...state.attempt, ...change, lastEventType } };
}

/** Exponential backoff between tries of a failing attempt. */
export function retryDelayMs(state: DomainState, policy: RetryPolicy): number {
  const failures = Math.max(1, state.attempt?.failures ?? 1);
  return Math.min(policy.firstRetryDelayMs * 2 ** (failures - 1), policy.maxRetryDelayMs);
}

export function fold(events: Iterable<DomainEvent & { at?: string }>, from: DomainState = initialState): DomainState {
  let state = from;
  for (const event of events) state = evolve(state, event);
  return state;
}
