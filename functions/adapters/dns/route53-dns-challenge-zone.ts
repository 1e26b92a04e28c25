// DNS-01 answers in the platform's Route 53 hosted zone (its databases' hostnames).
import {
  ChangeResourceRecordSetsCommand,
  waitUntilResourceRecordSetsChanged,
  type ChangeAction,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import { dnsChallengeName, type DnsChallengeZone } from './dns-challenge-zone.ts';

/** Short, so a renewal's new value is seen soon after a stale one. */
const TTL_SECONDS = 60;

export class Route53DnsChallengeZone implements DnsChallengeZone {
  constructor(
    private readonly client: Route53Client,
    private readonly hostedZoneId: string,
    /** Under the step's Lambda timeout: Route 53 says changes reach every server within about 60 s. */
    private readonly maxWaitSeconds = 90,
  ) {}

  async publish(hostname: string, value: string): Promise<void> {
    const { ChangeInfo } = await this.change('UPSERT', hostname, value);
    if (!ChangeInfo?.Id) throw new Error(`Route 53 returned no change id for ${dnsChallengeName(hostname)}`);
    // INSYNC: every Route 53 server for the zone answers with the record, so the CA will see it.
    await waitUntilResourceRecordSetsChanged(
      { client: this.client, maxWaitTime: this.maxWaitSeconds, minDelay: 2, maxDelay: 5 },
      { Id: ChangeInfo.Id },
    );
  }

  async remove(hostname: string, value: string): Promise<void> {
    try {
      await this.change('DELETE', hostname, value);
    } catch (error) {
      if (!isGone(error)) throw error;
    }
  }

  private change(action: ChangeAction, hostname: string, value: string) {
    return this.client.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: this.hostedZoneId,
        ChangeBatch: {
          Comment: `ACME DNS-01 for ${hostname}`,
          Changes: [
            {
              Action: action,
              ResourceRecordSet: {
                Name: dnsChallengeName(hostname),
                Type: 'TXT',
                TTL: TTL_SECONDS,
                // Route 53 takes TXT data quoted; a key authorization digest is base64url, nothing to escape.
                ResourceRecords: [{ Value: `"${value}"` }],
              },
            },
          ],
        },
      }),
    );
  }
}

/**
 * A DELETE that Route 53 refuses because the record is not there, or holds another value
 * (a newer attempt's UPSERT replaced ours): either way the record we published is gone.
 */
function isGone(error: unknown): boolean {
  const { name, message, messages } = error as { name?: string; message?: string; messages?: string[] };
  if (name !== 'InvalidChangeBatch') return false;
  return [message ?? '', ...(messages ?? [])].some((text) => /but it was not found|values provided do not match/i.test(text));
}
