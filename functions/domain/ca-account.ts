// The ACME account we order with, as the log knows it: the DNS pre-flight holds CAA
// `accounturi` (RFC 8657) against it without ever touching the account key.
import type { AccountEvent, RecordedEvent, StreamEvent } from './events.ts';

/** The account recorded last; undefined before the first order. */
export function accountInUse(history: RecordedEvent<StreamEvent>[]): string | undefined {
  const last = history.at(-1) as RecordedEvent<AccountEvent> | undefined;
  return last?.data.accountUrl;
}

/** Recorded when it is new (the first order, or another account after a CA-side reset), once. */
export function decideAccountInUse(accountUrl: string, history: RecordedEvent<StreamEvent>[]): AccountEvent[] {
  return accountInUse(history) === accountUrl ? [] : [{ type: 'AcmeAccountInUse', data: { accountUrl } }];
}
