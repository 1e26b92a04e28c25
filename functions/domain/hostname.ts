// Which names a custom domain may have. Checked when the domain is added: a name
// refused here changes nothing. Pure: the Public Suffix List ships inside tldts.
import { domainToASCII } from 'node:url';
import { parse } from 'tldts';

export type HostnameCheck = { valid: true; hostname: string } | { valid: false; rule: string };

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const MAX_NAME_LENGTH = 253;
/** The longest name a certificate's common name can hold (RFC 5280 ub-common-name). */
export const MAX_COMMON_NAME_LENGTH = 64;

export function checkHostname(input: string): HostnameCheck {
  const trimmed = input.trim().toLowerCase().replace(/\.$/, '');
  if (trimmed.startsWith('*')) return { valid: false, rule: 'wildcard domains are not supported' };
  if (parse(trimmed).isIp || trimmed.startsWith('[')) return { valid: false, rule: 'must be a domain name, not an IP address' };
  // Internationalized names are issued in their ASCII (punycode) form.
  const hostname = domainToASCII(trimmed);
  if (!hostname) return { valid: false, rule: `"${input}" is not a valid domain name` };
  if (hostname.length > MAX_NAME_LENGTH) return { valid: false, rule: `must be at most ${MAX_NAME_LENGTH} characters` };
  const labels = hostname.split('.');
  if (labels.length < 2) return { valid: false, rule: 'must have at least two labels, like www.example.com' };
  const bad = labels.find((label) => !LABEL.test(label));
  if (bad !== undefined) {
    return { valid: false, rule: `label "${bad}" must be 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen` };
  }
  const { publicSuffix } = parse(hostname, { allowPrivateDomains: true });
  if (publicSuffix === hostname) {
    return { valid: false, rule: `${hostname} is a public suffix: add a name you own under it, like example.${hostname}` };
  }
  return { valid: true, hostname };
}

/** Why a valid name still cannot be issued for, before anything is asked of DNS or the CA. */
export function commonNameProblem(hostname: string): string | undefined {
  if (hostname.length <= MAX_COMMON_NAME_LENGTH) return undefined;
  return `${hostname} is ${hostname.length} characters long; a certificate's name can have at most ${MAX_COMMON_NAME_LENGTH}. Use a shorter domain.`;
}
