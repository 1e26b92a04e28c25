// Which names a custom domain may have. Checked when the domain is added: a name
// refused here changes nothing.

export type HostnameCheck = { valid: true; hostname: string } | { valid: false; rule: string };

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const MAX_NAME_LENGTH = 253;

export function checkHostname(input: string): HostnameCheck {
  const hostname = input.trim().toLowerCase().replace(/\.$/, '');
  if (hostname.startsWith('*')) return { valid: false, rule: 'wildcard domains are not supported' };
  if (/^[\d.]+$/.test(hostname) || hostname.includes(':')) return { valid: false, rule: 'must be a domain name, not an IP address' };
  if (hostname.length === 0 || hostname.length > MAX_NAME_LENGTH) return { valid: false, rule: `must be 1 to ${MAX_NAME_LENGTH} characters` };
  const labels = hostname.split('.');
  if (labels.length < 2) return { valid: false, rule: 'must have at least two labels, like www.example.com' };
  const bad = labels.find((label) => !LABEL.test(label));
  if (bad !== undefined) {
    return { valid: false, rule: `label "${bad}" must be 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen` };
  }
  return { valid: true, hostname };
}
