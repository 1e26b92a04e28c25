// Looks names up through one configured resolver (8.8.8.8 in production), the way
// the CA will see them, with a deadline of our own around every query.
import type { CaaRecord as NodeCaaRecord } from 'node:dns';
import { Resolver } from 'node:dns/promises';
import type { CaaLookup, CaaLookupFailure, CaaRecord } from '../../domain/caa.ts';
import type { LookupFailure, Resolution } from '../../domain/dns-check.ts';
import type { TxtLookup } from '../../domain/self-check.ts';
import type { DnsLookup } from './dns-lookup.ts';

const MAX_CNAME_HOPS = 8;

const FAILURE_BY_CODE: Record<string, LookupFailure> = {
  ENOTFOUND: 'NXDOMAIN',
  ENODATA: 'NODATA',
  ESERVFAIL: 'SERVFAIL',
  ETIMEOUT: 'TIMEOUT',
  ECONNREFUSED: 'TIMEOUT',
};

class LookupFailed extends Error {
  constructor(readonly failure: LookupFailure) {
    super(failure);
  }
}

export class DnsResolver implements DnsLookup {
  private readonly resolver: Resolver;

  constructor(
    server: string,
    private readonly deadlineMs: number,
  ) {
    // node's own timeout doubles per try in ways that are hard to reason about: one try, our deadline.
    this.resolver = new Resolver({ timeout: deadlineMs, tries: 1 });
    this.resolver.setServers([server]);
  }

  async resolve(name: string): Promise<Resolution> {
    try {
      // The first CNAME query also tells a name that does not exist (NXDOMAIN) from one that is empty.
      const cnameChain = await this.cnameChain(name);
      const final = cnameChain.at(-1) ?? name;
      // AAAA on the name itself as well as at the chain's end: some providers publish both, and the CA asks the name.
      const [ipv4, ipv6AtEnd, ipv6AtName] = await Promise.all([
        this.records(() => this.resolver.resolve4(final)),
        this.records(() => this.resolver.resolve6(final)),
        // Only extra evidence: its failure does not fail the lookup.
        final === name ? Promise.resolve([]) : this.records(() => this.resolver.resolve6(name)).catch(() => []),
      ]);
      return { name, cnameChain, ipv4, ipv6: [...new Set([...ipv6AtEnd, ...ipv6AtName])] };
    } catch (error) {
      if (error instanceof LookupFailed) return { name, failure: error.failure };
      throw error;
    }
  }

  /**
   * RFC 8659 §3: the CAA RRset at the name, else at its parent, and so on up to
   * the TLD (the root excluded). A leading `*.` is dropped: a wildcard's set is
   * its base name's. NXDOMAIN and NODATA mean "empty here, climb". A CNAME is
   * followed by the resolver, which answers with the target's records; when
   * the set comes through an alias, `owner` is the chain's end (where the records
   * can be changed) and `aliasedFrom` the name queried. All levels are queried at
   * once (as Let's Encrypt does); a failure counts only below the set found.
   */
  async relevantCaaSet(hostname: string): Promise<CaaLookup> {
    const labels = hostname.toLowerCase().replace(/\.$/, '').replace(/^\*\./, '').split('.');
    if (labels.some((label) => label === '')) return { failure: 'SERVFAIL', name: hostname, code: 'EBADNAME' };
    const names = labels.map((_, index) => labels.slice(index).join('.'));
    const answers = names.map((name) => this.caaAt(name));
    for (const [index, answer] of answers.entries()) {
      const found = await answer;
      const name = names[index] ?? hostname;
      if ('failure' in found) return { name, ...found };
      if (found.length === 0) continue;
      const chain = await this.cnameChain(name).catch(() => []);
      const owner = chain.at(-1);
      const records = found.map(fromNode);
      return owner ? { owner, records, aliasedFrom: name } : { owner: name, records };
    }
    return undefined;
  }

  /** The CAA records a query for the name returns; none when it is empty or does not exist. Never rejects. */
  async txt(name: string): Promise<TxtLookup> {
    try {
      return { values: (await this.lookup(() => this.resolver.resolveTxt(name))).map((strings) => strings.join('')) };
    } catch (error) {
      if (error instanceof LookupFailed) return error.failure === 'NODATA' ? { values: [] } : { failure: error.failure };
      throw error;
    }
  }

  private async caaAt(name: string): Promise<NodeCaaRecord[] | Omit<CaaLookupFailure, 'name'>> {
    try {
      return await this.lookup(() => this.resolver.resolveCaa(name));
    } catch (error) {
      if (error instanceof LookupFailed) {
        return error.failure === 'NODATA' || error.failure === 'NXDOMAIN' ? [] : { failure: error.failure };
      }
      // EBADRESP (c-ares rejects a CAA record with an empty value, such as `0 issue ""`), EREFUSED, ...
      const code = (error as NodeJS.ErrnoException).code;
      return { failure: 'SERVFAIL', code: typeof code === 'string' ? code : 'EUNKNOWN' };
    }
  }

  private async cnameChain(name: string): Promise<string[]> {
    const chain: string[] = [];
    let current = name;
    while (chain.length < MAX_CNAME_HOPS) {
      const [next] = await this.records(() => this.resolver.resolveCname(current));
      if (!next) break;
      chain.push(next.toLowerCase());
      current = next;
    }
    return chain;
  }

  /** Records of one type; none when the name has none of that type. */
  private async records<T>(query: () => Promise<T[]>): Promise<T[]> {
    try {
      return await this.lookup(query);
    } catch (error) {
      if (error instanceof LookupFailed && error.failure === 'NODATA') return [];
      throw error;
    }
  }

  private async lookup<T>(query: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LookupFailed('TIMEOUT')), this.deadlineMs + 100);
    });
    try {
      return await Promise.race([query(), deadline]);
    } catch (error) {
      const failure = FAILURE_BY_CODE[(error as NodeJS.ErrnoException).code ?? ''];
      if (failure) throw new LookupFailed(failure);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * node gives `{ critical: flags, [tag]: value }`. A record whose tag is `critical`
 * overwrites its own flags with its value (read as not critical), and one tagged
 * `__proto__` loses its tag and value (read with an empty tag).
 */
function fromNode(record: NodeCaaRecord): CaaRecord {
  const { critical, ...properties } = record as unknown as Record<string, unknown>;
  if (typeof critical === 'string') return { flags: 0, tag: 'critical', value: critical };
  const [tag, value] = Object.entries(properties)[0] ?? ['', ''];
  return { flags: typeof critical === 'number' ? critical : 0, tag, value: String(value) };
}
