import type { CaaLookup } from '../../domain/caa.ts';
import type { Resolution } from '../../domain/dns-check.ts';
import type { TxtLookup } from '../../domain/self-check.ts';

/** The port: public DNS as the CA sees it (8.8.8.8 in production, the local zone here). */
export interface DnsLookup {
  /** The CNAME chain from the name and the addresses at its end; never rejects on a DNS failure. */
  resolve(name: string): Promise<Resolution>;
  /** RFC 8659 §3: the Relevant CAA RRset, none, or why it could not be known. */
  relevantCaaSet(hostname: string): Promise<CaaLookup>;
  /** The TXT values at a name (each record's strings joined), or why there are none. */
  txt(name: string): Promise<TxtLookup>;
}
