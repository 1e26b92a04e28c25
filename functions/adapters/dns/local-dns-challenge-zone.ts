// The platform's zone on this machine: the local DNS server's zone, which Pebble and
// our resolver both ask. A record set here is answered at once: it is in sync on publish.
import { dnsChallengeName, type DnsChallengeZone } from './dns-challenge-zone.ts';

/** What this adapter needs of the local zone: TXT records by name. */
export interface TxtRecords {
  set(name: string, type: 'TXT', values: string[]): void;
}

export class LocalDnsChallengeZone implements DnsChallengeZone {
  constructor(private readonly zone: TxtRecords) {}

  async publish(hostname: string, value: string): Promise<void> {
    this.zone.set(dnsChallengeName(hostname), 'TXT', [value]);
  }

  async remove(hostname: string): Promise<void> {
    this.zone.set(dnsChallengeName(hostname), 'TXT', []);
  }
}
