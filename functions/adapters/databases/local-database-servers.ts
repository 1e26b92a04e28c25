// The local cloud's database hosts: real PostgreSQL clusters, one per database, that the
// local cloud starts. Every offered chain and the key are kept in the cluster's own folder,
// which only the server's user (and root) can open, so `serve` switches roots without a new key.
import { randomUUID } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DatabaseCertificate, DatabaseServers, DatabaseTarget, OfferedChain, SslConnection } from './database-servers.ts';

/** What this adapter needs of a running cluster (infra/local/postgres.ts provides it). */
export interface LocalDatabaseCluster {
  /** The cluster's folder, which only the server's user can read. */
  dir: string;
  /** Serves the chain with the key; resolves once new connections get it. */
  installCertificate(chainPem: string, privateKeyPem: string): Promise<void>;
  servePlatformCertificate(): Promise<void>;
  sslConnections(): Promise<SslConnection[]>;
}

/** The cluster that runs a database, or undefined when the local cloud runs none for it. */
export type LocalClusterLookup = (target: DatabaseTarget) => LocalDatabaseCluster | undefined;

/** In the cluster folder, mode 0600: the installed certificate with its key and every offered chain. */
export const KEPT_CERTIFICATE_FILE = 'enhanced-certificate.json';

interface KeptCertificate extends DatabaseCertificate {
  location: string;
}

export class LocalDatabaseServers implements DatabaseServers {
  constructor(private readonly clusterOf: LocalClusterLookup) {}

  async install(target: DatabaseTarget, certificate: DatabaseCertificate): Promise<string> {
    const cluster = this.cluster(target);
    const location = locationOf(target);
    const chainPem = chainTo(certificate.chains, certificate.servedRoot);
    // Kept before it is served, so whatever the cluster serves, `serve` and `revert` can find.
    await writeKept(cluster, { location, ...certificate });
    await cluster.installCertificate(chainPem, certificate.privateKeyPem);
    return location;
  }

  async serve(target: DatabaseTarget, location: string, servedRoot: string, notAfter: string): Promise<void> {
    const cluster = this.cluster(target, location);
    const kept = await readKept(cluster, location);
    await cluster.installCertificate(chainTo(kept.chains, servedRoot), kept.privateKeyPem);
    await writeKept(cluster, { ...kept, servedRoot, notAfter });
  }

  async revert(target: DatabaseTarget, location: string): Promise<void> {
    const cluster = this.cluster(target, location);
    await cluster.servePlatformCertificate();
    await rm(keptFile(cluster), { force: true });
  }

  async sslConnections(target: DatabaseTarget): Promise<SslConnection[]> {
    return this.cluster(target).sslConnections();
  }

  /** The target's cluster; with a location, also checks that it is where this target's certificate is kept. */
  private cluster(target: DatabaseTarget, location?: string): LocalDatabaseCluster {
    if (location !== undefined && location !== locationOf(target)) {
      throw new Error(`${location} is not where ${target.app}/${target.database}'s certificate is kept (${locationOf(target)})`);
    }
    const cluster = this.clusterOf(target);
    if (!cluster) throw new Error(`the local cloud runs no database ${target.database} for app ${target.app}`);
    return cluster;
  }
}

function locationOf(target: DatabaseTarget): string {
  return `local-postgres:${target.app}/${target.database}`;
}

function chainTo(chains: OfferedChain[], root: string): string {
  const chain = chains.find((offered) => offered.root === root);
  if (!chain) throw new Error(`no offered chain leads to ${root} (offered: ${chains.map((offered) => offered.root).join(', ')})`);
  return chain.chainPem;
}

function keptFile(cluster: LocalDatabaseCluster): string {
  return path.join(cluster.dir, KEPT_CERTIFICATE_FILE);
}

async function readKept(cluster: LocalDatabaseCluster, location: string): Promise<KeptCertificate> {
  try {
    return JSON.parse(await readFile(keptFile(cluster), 'utf8')) as KeptCertificate;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`no certificate is installed at ${location}`);
    throw error;
  }
}

/** Written aside with mode 0600 from the first byte, then renamed: never half a file, never a readable key. */
async function writeKept(cluster: LocalDatabaseCluster, kept: KeptCertificate): Promise<void> {
  const file = keptFile(cluster);
  const temporary = `${file}.${randomUUID()}.tmp`;
  try {
    await writeFile(temporary, JSON.stringify(kept), { mode: 0o600, flag: 'wx' });
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
