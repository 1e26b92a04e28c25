// When a certificate is renewed. With ACME Renewal Information (RFC 9773) the CA
// suggests a window, and we renew at a random instant inside it (at once when the
// window is already past, as in a mass revocation). Without ARI: once a third of the
// lifetime remains, half under 10 days; for 90-day certificates, a month before expiry.
const HOUR_MS = 60 * 60_000;
const DAY_MS = 24 * HOUR_MS;
const SHORT_LIFETIME_MS = 10 * DAY_MS;
/** Let's Encrypt asks clients to look at ARI at least twice a day. */
export const ARI_CHECK_INTERVAL_MS = 12 * HOUR_MS;
/** A Retry-After shorter than this is not honoured to the letter: one look a minute is plenty. */
const MIN_ARI_CHECK_INTERVAL_MS = 60_000;

/** RFC 9773 §4.2: the CA's suggested window, and the page that says why when it moved. */
export interface RenewalWindow {
  start: string;
  end: string;
}

export interface CertificateDates {
  notBefore: string;
  notAfter: string;
}

/** The fixed rule, for a CA without ARI. */
export function fallbackRenewsAt({ notBefore, notAfter }: CertificateDates): string {
  const expiry = Date.parse(notAfter);
  const lifetime = expiry - Date.parse(notBefore);
  return new Date(expiry - (lifetime < SHORT_LIFETIME_MS ? lifetime / 2 : lifetime / 3)).toISOString();
}

/** A uniformly random instant inside the window (`random` in [0, 1)); now, if the window has begun to pass. */
export function chooseRenewalTime(window: RenewalWindow, now: Date, random: number): string {
  const start = Math.max(Date.parse(window.start), now.getTime());
  const end = Date.parse(window.end);
  if (end <= start) return new Date(Math.max(now.getTime(), Math.min(start, end))).toISOString();
  return new Date(start + Math.floor(random * (end - start))).toISOString();
}

/** When to look at ARI again: when the CA's Retry-After says, but at least twice a day. */
export function nextRenewalCheck(now: Date, retryAfter: string | undefined): string {
  const asked = retryAfter ? Date.parse(retryAfter) - now.getTime() : ARI_CHECK_INTERVAL_MS;
  const wait = Math.min(ARI_CHECK_INTERVAL_MS, Math.max(MIN_ARI_CHECK_INTERVAL_MS, Number.isFinite(asked) ? asked : ARI_CHECK_INTERVAL_MS));
  return new Date(now.getTime() + wait).toISOString();
}

/** RFC 9773 §4.1: base64url(the AKI's keyIdentifier) "." base64url(the serial number's DER value bytes). */
export function ariCertificateId(authorityKeyIdHex: string, serialHex: string): string {
  const bytes = (hex: string) => Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  const serial = bytes(serialHex);
  // A DER INTEGER whose first bit is set carries a leading zero byte, and the identifier keeps it.
  const derSerial = serial[0] !== undefined && serial[0] & 0x80 ? Buffer.concat([Buffer.from([0]), serial]) : serial;
  return `${bytes(authorityKeyIdHex).toString('base64url')}.${derSerial.toString('base64url')}`;
}

/** How long a domain fails before operators and owners are told, once (EventBridge). */
export const NOTIFY_AFTER_FAILING_MS = 3 * DAY_MS;
