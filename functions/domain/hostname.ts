// Which names a custom domain may have. Checked when the domain is added and on every
// path that names one: a name refused here changes nothing. Pure: UTS #46 (tr46) turns
// internationalized names into punycode, and the Public Suffix List ships inside tldts
// (registered-domain.ts).
// No URL parsing: a URL parser would quietly drop a path, decode %xx and read 127.1 as an IP.
import { isIP } from 'node:net';
import { toASCII } from 'tr46';
import { isPublicSuffix } from './registered-domain.ts';

export type HostnameCheck = { valid: true; hostname: string } | { valid: false; rule: string };

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const MAX_NAME_LENGTH = 253;
/** ASCII that no domain name has; anything else (letters of any script, digits, `-`, `.`) goes on to IDNA. */
const NOT_IN_A_NAME = /[\x00-\x2c\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]/;
const URL_PARTS = new Set(['/', '?', '#']);
/** A last label that is a number (decimal, or 0x hex) makes the whole an IPv4 address in some spelling: 127.1, 0x7f.0.0.1. */
const NUMERIC_LABEL = /^(?:\d+|0x[0-9a-f]*)$/;

export function checkHostname(input: string): HostnameCheck {
  const trimmed = input.trim().toLowerCase();
  if (trimmed.startsWith('*')) return { valid: false, rule: 'wildcard domains are not supported' };
  if (looksLikeAnIpAddress(trimmed)) return { valid: false, rule: NOT_AN_IP };
  const stray = NOT_IN_A_NAME.exec(trimmed)?.[0];
  if (stray !== undefined) return { valid: false, rule: strayCharacterRule(stray) };
  // Internationalized names are issued in their ASCII (punycode) form; the root's trailing dot goes, once.
  const hostname = toASCII(trimmed, { useSTD3ASCIIRules: true, checkBidi: true, checkJoiners: true })?.replace(/\.$/, '');
  if (!hostname) return { valid: false, rule: `"${input}" is not a valid domain name` };
  // IDNA maps full-width digits and dots to ASCII ones: look again.
  if (looksLikeAnIpAddress(hostname)) return { valid: false, rule: NOT_AN_IP };
  if (hostname.length > MAX_NAME_LENGTH) return { valid: false, rule: `must be at most ${MAX_NAME_LENGTH} characters` };
  const labels = hostname.split('.');
  if (labels.length < 2) return { valid: false, rule: 'must have at least two labels, like www.example.com' };
  const bad = labels.find((label) => !LABEL.test(label));
  if (bad !== undefined) {
    return { valid: false, rule: `label "${bad}" must be 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen` };
  }
  if (isPublicSuffix(hostname)) {
    return { valid: false, rule: `${hostname} is a public suffix: add a name you own under it, like example.${hostname}` };
  }
  return { valid: true, hostname };
}

const NOT_AN_IP = 'must be a domain name, not an IP address';

function looksLikeAnIpAddress(name: string): boolean {
  return isIP(name) !== 0 || name.startsWith('[') || NUMERIC_LABEL.test(name.split('.').at(-1) ?? '');
}

function strayCharacterRule(character: string): string {
  if (URL_PARTS.has(character))
    return `"${character}" is not allowed: give the bare domain name, without a scheme, path, query or fragment`;
  if (character === '%') return 'percent-encoded characters (%xx) are not allowed: give the domain name as it is written';
  if (character === ':') return '":" is not allowed: give the domain name without a scheme or port';
  const shown =
    character.trim() === '' ? `the character U+${character.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}` : `"${character}"`;
  return `${shown} is not allowed in a domain name: use letters, digits, hyphens and dots`;
}
