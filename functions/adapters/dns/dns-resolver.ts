// Looks names up through one configured resolver (8.8.8.8 in production), the way
// the CA will see them, with a deadline of our own around every query.
import { Resolver } from 'node:dns/promises';
import type { LookupFailure, Resolution } from '../../domain/dns-check.ts';

export const DEFAULT_RESOLVER = '8.8.8.8';
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

export class DnsResolver {
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
      const [ipv4, ipv6] = await Promise.all([this.records(() => this.resolver.resolve4(final)), this.records(() => this.resolver.resolve6(final))]);
      return { name, cnameChain, ipv4, ipv6 };
    } catch (error) {
      if (error instanceof LookupFailed) return { name, failure: error.failure };
      throw error;
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
