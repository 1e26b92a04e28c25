// When a certificate is renewed: a month before it expires, or once a third of its
// lifetime remains for certificates shorter than 90 days.
const DAY_MS = 24 * 60 * 60_000;
const RENEWAL_LEAD_MS = 30 * DAY_MS;
const SHORT_LIFETIME_MS = 90 * DAY_MS;

export function renewsAt({ notBefore, notAfter }: { notBefore: string; notAfter: string }): string {
  const expiry = Date.parse(notAfter);
  const lifetime = expiry - Date.parse(notBefore);
  const lead = lifetime < SHORT_LIFETIME_MS ? lifetime / 3 : RENEWAL_LEAD_MS;
  return new Date(expiry - lead).toISOString();
}

/** How long a domain fails before operators and owners are told, once (EventBridge). */
export const NOTIFY_AFTER_FAILING_MS = 3 * DAY_MS;
