import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { retryDelayMs } from '../../functions/domain/certificate-decider.ts';
import { added, at, certificate, dnsVerified, failed, given, installed, order, orderCreated, policy, requested } from './given.ts';

describe('adding a domain', () => {
  test('a new domain is added', () => {
    given().when({ type: 'AddDomain', app: 'demo', hostname: 'www.example.com', dnsTarget: 'demo.edge.example.net' }).then(added);
  });

  test('adding it again (a redelivered event) decides nothing', () => {
    given(added).when({ type: 'AddDomain', app: 'demo', hostname: 'www.example.com', dnsTarget: 'demo.edge.example.net' }).then();
  });
});

describe('requesting issuance', () => {
  test('opens attempt 1 for a new domain', () => {
    given(added)
      .when({ type: 'RequestIssuance', trigger: 'domain-added' })
      .then({ type: 'IssuanceRequested', data: { attempt: 1, trigger: 'domain-added' } });
  });

  test('joins the open attempt instead of starting a second one', () => {
    given(added, requested(1)).when({ type: 'RequestIssuance', trigger: 'refresh' }).then();
  });

  test('opens the next attempt once the last one ended', () => {
    given(added, requested(1), failed(1, true))
      .when({ type: 'RequestIssuance', trigger: 'refresh' })
      .then({
        type: 'IssuanceRequested',
        data: { attempt: 2, trigger: 'refresh' },
      });
  });

  test('refuses a domain that was never added', () => {
    given().when({ type: 'RequestIssuance', trigger: 'refresh' }).thenThrows('DomainNotFoundError');
  });
});

describe('recording step outcomes', () => {
  test('records progress of the current attempt', () => {
    given(added, requested(1))
      .when({ type: 'RecordStepOutcomes', outcomes: [{ type: 'DnsVerified', data: { attempt: 1, answers: [] } }] })
      .then({
        type: 'DnsVerified',
        data: { attempt: 1, answers: [] },
      });
  });

  test('a retried step records nothing twice', () => {
    given(added, requested(1), dnsVerified(1), orderCreated(1))
      .when({ type: 'RecordStepOutcomes', outcomes: [{ type: 'OrderCreated', data: { attempt: 1, ...order } }] })
      .then();
    given(added, requested(1), dnsVerified(1), orderCreated(1))
      .when({ type: 'RecordStepOutcomes', outcomes: [{ type: 'DnsVerified', data: { attempt: 1, answers: [] } }] })
      .then();
  });

  test('an outcome of an older attempt is stale', () => {
    given(added, requested(1), failed(1, true), requested(2))
      .when({ type: 'RecordStepOutcomes', outcomes: [{ type: 'DnsVerified', data: { attempt: 1, answers: [] } }] })
      .thenThrows('StaleAttemptError');
  });

  test('the certificate is recorded as issued and installing before the install, then as installed, once', () => {
    const [issued, installing, done] = installed(1);
    given(added, requested(1), dnsVerified(1), orderCreated(1))
      .when({ type: 'StartInstalling', attempt: 1, installId: 'install-1', certificate })
      .then(issued!, installing!);
    const command = { type: 'RecordCertificate', attempt: 1, certificate, certificateArn: 'arn:cert/1' } as const;
    given(added, requested(1), dnsVerified(1), orderCreated(1), issued!, installing!).when(command).then(done!);
    given(added, requested(1), dnsVerified(1), orderCreated(1), ...installed(1))
      .when(command)
      .then();
  });

  test('an install a crash left unrecorded is abandoned by the next run, which names what it removed', () => {
    const [issued, installing] = installed(1);
    given(added, requested(1), dnsVerified(1), orderCreated(1), issued!, installing!)
      .when({ type: 'AbandonInstallation', attempt: 1, installId: 'install-1', removed: ['arn:cert/orphan'] })
      .then({ type: 'InstallationAbandoned', data: { attempt: 1, installId: 'install-1', removed: ['arn:cert/orphan'] } });
    given(added, requested(1), dnsVerified(1), orderCreated(1))
      .when({ type: 'AbandonInstallation', attempt: 1, installId: 'install-1', removed: [] })
      .then();
    // Another run's install, not the one this run found: not abandoned.
    given(added, requested(1), dnsVerified(1), orderCreated(1), issued!, installing!)
      .when({ type: 'AbandonInstallation', attempt: 1, installId: 'install-other', removed: [] })
      .then();
  });
});

describe('failures', () => {
  const dnsTimeout = { attempt: 1, tryNumber: 0, reason: 'DNS_TIMEOUT', message: 'timed out', retryable: true } as const;
  const { tryNumber: _tryNumber, ...dnsTimeoutData } = dnsTimeout;

  test('a retryable failure inside the failing window is not final', () => {
    given(added, requested(1))
      .when({ type: 'RecordFailure', failure: dnsTimeout }, at(0))
      .then({ type: 'IssuanceFailed', data: { ...dnsTimeoutData, final: false } });
  });

  test('a failure once the window since the first failure has passed is final', () => {
    given(added, requested(1), failed(1, false, 0), dnsVerified(1))
      .when({ type: 'RecordFailure', failure: { ...dnsTimeout, tryNumber: 1 } }, at(61))
      .then({ type: 'IssuanceFailed', data: { ...dnsTimeoutData, final: true } });
  });

  test('a failure that cannot be retried is final at once', () => {
    const forbidden = { attempt: 1, reason: 'CAA_FORBIDS', message: 'CAA forbids', retryable: false } as const;
    given(added, requested(1))
      .when({ type: 'RecordFailure', failure: { ...forbidden, tryNumber: 0 } })
      .then({ type: 'IssuanceFailed', data: { ...forbidden, final: true } });
  });

  test('the DNS verdict keeps its answers in a DnsCheckFailed event before the failure', () => {
    const answers = [{ name: 'www.example.com', type: 'A', data: '192.0.2.1' }] as const;
    const failure = { attempt: 1, tryNumber: 0, reason: 'DNS_INCORRECT', message: 'points elsewhere', retryable: true } as const;
    given(added, requested(1))
      .when({ type: 'RecordFailure', failure: { ...failure, dnsAnswers: [...answers] } })
      .then(
        { type: 'DnsCheckFailed', data: { attempt: 1, reason: 'DNS_INCORRECT', message: 'points elsewhere', answers: [...answers] } },
        {
          type: 'IssuanceFailed',
          data: { attempt: 1, reason: 'DNS_INCORRECT', message: 'points elsewhere', retryable: true, final: false },
        },
      );
  });

  test('the catch-all after a step that recorded its failure records nothing more', () => {
    given(added, requested(1), failed(1, false))
      .when({ type: 'RecordFailure', failure: { attempt: 1, tryNumber: 0, message: 'unexpected', retryable: true } })
      .then();
  });

  test('the next try after a wait records its own failure, even with no progress in between', () => {
    given(added, requested(1), failed(1, false))
      .when({ type: 'RecordFailure', failure: { ...dnsTimeout, tryNumber: 1 } }, at(1))
      .then({ type: 'IssuanceFailed', data: { ...dnsTimeoutData, final: false } });
  });

  test('a rate limit is recorded with its end, and the window does not end it', () => {
    const limited = {
      attempt: 1,
      tryNumber: 1,
      reason: 'RATE_LIMITED',
      message: 'slow down',
      retryable: true,
      rateLimitedUntil: at(180).toISOString(),
    } as const;
    const { tryNumber: _t, rateLimitedUntil, ...data } = limited;
    const history = [added, requested(1), failed(1, false, 0)];
    given(...history)
      .when({ type: 'RecordFailure', failure: limited }, at(120))
      .then(
        { type: 'RateLimited', data: { attempt: 1, until: rateLimitedUntil } },
        { type: 'IssuanceFailed', data: { ...data, final: false } },
      );
    const { state } = given(
      ...history,
      { type: 'RateLimited', data: { attempt: 1, until: rateLimitedUntil } },
      { type: 'IssuanceFailed', data: { ...data, final: false } },
    );
    assert.equal(state.attempt?.failure?.rateLimitedUntil, rateLimitedUntil);
  });

  test('a failure restarts the try: the next order is a new one', () => {
    const { state } = given(added, requested(1), dnsVerified(1), orderCreated(1), failed(1, false));
    assert.equal(state.attempt?.order, undefined);
    assert.equal(state.attempt?.stage, 'requested');
  });

  test('retries back off exponentially up to the maximum', () => {
    const delays = [1, 2, 3, 4, 5, 6].map((failures) => {
      const history = [
        added,
        requested(1),
        ...Array.from({ length: failures }, (_, index) => [dnsVerified(1), failed(1, false, index)]).flat(),
      ];
      return retryDelayMs(given(...history).state, policy);
    });
    assert.deepEqual(delays, [60_000, 120_000, 240_000, 480_000, 900_000, 900_000]);
  });
});

describe('removal, automation off, and adding again', () => {
  const removedAt = (time: string) => ({ type: 'RemoveDomain', reason: 'removed', platformEventTime: time }) as const;

  test('turning automation off removes the certificate and ends a running attempt', () => {
    given(added, requested(1), ...installed(1), requested(2, 'renewal'))
      .when({ type: 'TurnAutomationOff' })
      .then(
        { type: 'CertificateRemoved', data: { certificateArn: 'arn:cert/1', reason: 'acm-disabled' } },
        { type: 'IssuanceCancelled', data: { attempt: 2, reason: 'acm-disabled' } },
      );
    const { state } = given(added, requested(1), failed(1, false), {
      type: 'IssuanceCancelled',
      data: { attempt: 1, reason: 'acm-disabled' },
    });
    assert.equal(state.attempt?.closed, true);
    // Enabling again opens the next attempt instead of joining the cancelled one.
    given(added, requested(1), { type: 'IssuanceCancelled', data: { attempt: 1, reason: 'acm-disabled' } })
      .when({ type: 'RequestIssuance', trigger: 'acm-enabled' })
      .then({ type: 'IssuanceRequested', data: { attempt: 2, trigger: 'acm-enabled' } });
  });

  test('a step of an attempt that ended without getting that far is stale', () => {
    given(added, requested(1), dnsVerified(1), { type: 'IssuanceCancelled', data: { attempt: 1, reason: 'acm-disabled' } })
      .when({ type: 'RecordStepOutcomes', outcomes: [{ type: 'OrderCreated', data: { attempt: 1, ...order } }] })
      .thenThrows('StaleAttemptError');
  });

  test('a removal older than the recorded add changes nothing; a newer one removes', () => {
    const addedByPlatform = { ...added, data: { ...added.data, platformEventTime: '2026-11-22T10:00:03.000Z' } } as typeof added;
    given(addedByPlatform).when(removedAt('2026-11-22T10:00:02.000Z')).then();
    given(addedByPlatform)
      .when(removedAt('2026-11-22T10:00:04.000Z'))
      .then({ type: 'DomainRemoved', data: { reason: 'removed', platformEventTime: '2026-11-22T10:00:04.000Z' } });
  });

  test('an add older than the recorded removal changes nothing', () => {
    const tombstone = { type: 'DomainRemoved', data: { reason: 'removed', platformEventTime: '2026-11-22T10:00:05.000Z' } } as const;
    const command = { type: 'AddDomain', app: 'demo', hostname: 'www.example.com', dnsTarget: 'demo.edge.example.net' } as const;
    given(tombstone)
      .when({ ...command, platformEventTime: '2026-11-22T10:00:04.000Z' })
      .then();
  });

  test('a domain added again starts afresh: no failing episode carried over', () => {
    const { state } = given(added, requested(1), failed(1, true), { type: 'DomainRemoved', data: { reason: 'removed' } }, added);
    assert.deepEqual([state.removed, state.failingSince, state.failureNotified, state.attempt?.closed], [false, undefined, false, true]);
  });
});

describe('the order budget', () => {
  const budgetTaken = { type: 'OrderBudgetTaken', data: { attempt: 1 } } as const;
  const deferral = {
    attempt: 1,
    until: '2026-11-23T19:36:00.000Z',
    limit: 'certificatesPerExactSet',
    bucket: 'www.example.com',
    message: 'waits',
  } as const;

  test('a try takes its tokens once: a retried CreateOrder, or one after the order exists, takes none', () => {
    given(added, requested(1), dnsVerified(1)).when({ type: 'TakeOrderBudget', attempt: 1 }).then(budgetTaken);
    given(added, requested(1), dnsVerified(1), budgetTaken).when({ type: 'TakeOrderBudget', attempt: 1 }).then();
    given(added, requested(1), dnsVerified(1), orderCreated(1)).when({ type: 'TakeOrderBudget', attempt: 1 }).then();
  });

  test('the next try after a failure orders anew, so it takes tokens again', () => {
    given(added, requested(1), dnsVerified(1), budgetTaken, orderCreated(1), failed(1, false))
      .when({ type: 'TakeOrderBudget', attempt: 1 })
      .then(budgetTaken);
  });

  test('a deferral is recorded once per refill time, and an ended attempt takes neither', () => {
    given(added, requested(1), dnsVerified(1)).when({ type: 'DeferOrder', deferral }).then({ type: 'OrderDeferred', data: deferral });
    given(added, requested(1), dnsVerified(1), { type: 'OrderDeferred', data: deferral }).when({ type: 'DeferOrder', deferral }).then();
    given(added, requested(1), failed(1, true)).when({ type: 'TakeOrderBudget', attempt: 1 }).thenThrows('StaleAttemptError');
    given(added, requested(1), failed(1, true)).when({ type: 'DeferOrder', deferral }).thenThrows('StaleAttemptError');
  });
});

describe('the order budget, after failures and deferrals', () => {
  const budgetTaken = { type: 'OrderBudgetTaken', data: { attempt: 1 } } as const;
  const deferred = {
    type: 'OrderDeferred',
    data: { attempt: 1, until: '2026-11-23T19:36:00.000Z', limit: 'newOrdersPerAccount', bucket: 'acct', message: 'waits' },
  } as const;

  test('a try that failed before its order was sent keeps the tokens it took: the next try does not pay again', () => {
    given(added, requested(1), dnsVerified(1), budgetTaken, failed(1, false)).when({ type: 'TakeOrderBudget', attempt: 1 }).then();
  });

  test('waiting for budget is not failing: the earlier failure and the failing window are cleared', () => {
    const state = given(added, requested(1), failed(1, false, 0), dnsVerified(1), deferred).state;
    assert.deepEqual([state.attempt?.failure, state.attempt?.failingSince, state.failingSince], [undefined, undefined, undefined]);
  });

  test('an alreadyReplaced answer drops replaces; tokens taken as an exempt ARI order are taken again as a renewal', () => {
    const ariBudget = { type: 'OrderBudgetTaken', data: { attempt: 2, kind: 'ari-renewal' } } as const;
    const renewing = [
      added,
      requested(1),
      ...installed(1, 'aki.serial'),
      { type: 'IssuanceRequested', data: { attempt: 2, trigger: 'renewal', replaces: 'aki.serial' } } as const,
    ];
    given(...renewing, ariBudget)
      .when({ type: 'DropReplaces', attempt: 2 })
      .then({ type: 'ReplacementRefused', data: { attempt: 2, replaces: 'aki.serial' } });
    given(...renewing, ariBudget, { type: 'ReplacementRefused', data: { attempt: 2, replaces: 'aki.serial' } })
      .when({ type: 'TakeOrderBudget', attempt: 2, kind: 'renewal' })
      .then({ type: 'OrderBudgetTaken', data: { attempt: 2, kind: 'renewal' } });
  });
});

test('the reconciler restarts an open attempt with a new execution number; a closed one is left alone', () => {
  given(added, requested(1), dnsVerified(1))
    .when({ type: 'RestartExecution', attempt: 1, checkedRestarts: 0 })
    .then({ type: 'ExecutionRestarted', data: { attempt: 1, restart: 1 } });
  given(added, requested(1), { type: 'ExecutionRestarted', data: { attempt: 1, restart: 1 } })
    .when({ type: 'RestartExecution', attempt: 1, checkedRestarts: 1 })
    .then({ type: 'ExecutionRestarted', data: { attempt: 1, restart: 2 } });
  // Two reconcilers looked at the same moment: the one that lost the race starts nothing.
  given(added, requested(1), { type: 'ExecutionRestarted', data: { attempt: 1, restart: 1 } })
    .when({ type: 'RestartExecution', attempt: 1, checkedRestarts: 0 })
    .then();
  given(added, requested(1), ...installed(1))
    .when({ type: 'RestartExecution', attempt: 1, checkedRestarts: 0 })
    .then();
});

test('an order the CA forgot goes: the attempt is back before its order and orders (and pays) afresh', () => {
  const forgotten = { type: 'OrderForgottenByCa', data: { attempt: 1, orderUrl: order.orderUrl } } as const;
  const history = [added, requested(1), dnsVerified(1), { type: 'OrderBudgetTaken', data: { attempt: 1 } } as const, orderCreated(1)];
  given(...history)
    .when({ type: 'ForgetOrder', attempt: 1, orderUrl: order.orderUrl })
    .then(forgotten);
  // Another order than the recorded one: nothing to forget.
  given(...history)
    .when({ type: 'ForgetOrder', attempt: 1, orderUrl: 'https://ca/order/other' })
    .then();
  const after = given(...history, forgotten).state.attempt!;
  assert.deepEqual([after.order, after.stage, after.budgetTaken], [undefined, 'dns-verified', false]);
});

test('a newer repeat that changes nothing is recorded, so an older event arriving after it loses', () => {
  const at = (minute: number) => new Date(Date.UTC(2026, 11, 1, 0, minute)).toISOString();
  const domain = added.data as { app: string; hostname: string; dnsTarget: string };
  const addedAt = (minute: number) => ({ type: 'DomainAdded', data: { ...domain, platformEventTime: at(minute) } }) as const;
  const removedAt = (minute: number) => ({ type: 'DomainRemoved', data: { reason: 'removed', platformEventTime: at(minute) } }) as const;
  // Removed 1:50, Added 2:25, Removed 2:33, delivered as 1:50, 2:33, 2:25: it ends removed.
  given(removedAt(110))
    .when({ type: 'RemoveDomain', reason: 'removed', platformEventTime: at(153) })
    .then({ type: 'PlatformEventSeen', data: { change: 'removed', platformEventTime: at(153) } });
  given(removedAt(110), { type: 'PlatformEventSeen', data: { change: 'removed', platformEventTime: at(153) } })
    .when({ type: 'AddDomain', ...domain, platformEventTime: at(145) })
    .then();
  // Added 0:33, Removed 1:43, Added 1:58, delivered as 0:33, 1:58, 1:43: it ends present.
  given(addedAt(33))
    .when({ type: 'AddDomain', ...domain, platformEventTime: at(118) })
    .then({ type: 'PlatformEventSeen', data: { change: 'added', platformEventTime: at(118) } });
  given(addedAt(33), { type: 'PlatformEventSeen', data: { change: 'added', platformEventTime: at(118) } })
    .when({ type: 'RemoveDomain', reason: 'removed', platformEventTime: at(103) })
    .then();
  // An older repeat records nothing.
  given(addedAt(33))
    .when({ type: 'AddDomain', ...domain, platformEventTime: at(20) })
    .then();
});
