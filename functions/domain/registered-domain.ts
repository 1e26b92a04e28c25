// What the Public Suffix List says about a name (private suffixes included, as the CA
// counts them). Pure: the list ships inside tldts. Its own module, and the only one that
// imports tldts, so a function that never asks carries none of it: tldts builds its
// lookup tables when loaded, and esbuild keeps a package's load-time code wherever it
// is imported, used or not (our own modules are side-effect free: package.json).
import { getDomain, parse } from 'tldts';

/** The registered domain by the Public Suffix List: www.shop.example.co.uk -> example.co.uk; a name with none is its own. */
export function registeredDomainOf(name: string): string {
  return getDomain(name, { allowPrivateDomains: true }) ?? name;
}

/** Whether the name is itself a public suffix (co.uk, github.io), which nobody owns a certificate for. */
export function isPublicSuffix(hostname: string): boolean {
  return parse(hostname, { allowPrivateDomains: true }).publicSuffix === hostname;
}
