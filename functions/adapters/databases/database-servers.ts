// The port to the hosts that run the platform's Postgres databases: where a database's
// certificate is installed and served, and who is connected to it with SSL.

/** Which database, and the hostname its certificate is for. */
export interface DatabaseTarget {
  app: string;
  database: string;
  hostname: string;
}

/** One chain the CA offered for the certificate, named by the root it leads to. */
export interface OfferedChain {
  /** The root's subject common name, e.g. `ISRG Root X1`. */
  root: string;
  /** Leaf first, as the server sends it. */
  chainPem: string;
}

/** A row of the pg_stat_ssl / pg_stat_activity join that the CA-rotation guidance gives. */
export interface SslConnection {
  datname: string;
  usename: string;
  clientAddr: string;
  version: string;
  cipher: string;
}

export interface DatabaseCertificate {
  privateKeyPem: string;
  chains: OfferedChain[];
  /** Which of `chains` the database serves. */
  servedRoot: string;
  notAfter: string;
}

export interface DatabaseServers {
  /**
   * Puts the key and every offered chain where the database host reads them, and has it
   * serve the chain to `servedRoot` after a reload (no restart: open connections stay).
   * Returns where the certificate is kept (a secret's ARN in AWS), which the log records.
   */
  install(target: DatabaseTarget, certificate: DatabaseCertificate): Promise<string>;
  /** Serves the installed certificate's chain to another root: no new key, a reload. */
  serve(target: DatabaseTarget, location: string, servedRoot: string, notAfter: string): Promise<void>;
  /** The database serves its platform-signed certificate again, and the installed one is deleted. */
  revert(target: DatabaseTarget, location: string): Promise<void>;
  /** The SSL connections open now. */
  sslConnections(target: DatabaseTarget): Promise<SslConnection[]>;
}
