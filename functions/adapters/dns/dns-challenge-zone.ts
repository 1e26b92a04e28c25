// The port to the zone the platform owns (its databases' hostnames): where DNS-01 answers go.

export interface DnsChallengeZone {
  /** Sets `_acme-challenge.<hostname>` TXT to `value`; resolves once the zone's servers answer with it. */
  publish(hostname: string, value: string): Promise<void>;
  /** Removes that record; removing one that is gone is not an error. */
  remove(hostname: string, value: string): Promise<void>;
}

export const dnsChallengeName = (hostname: string) => `_acme-challenge.${hostname}`;
