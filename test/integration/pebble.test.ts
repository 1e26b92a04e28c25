import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDnsServer, type DnsServer } from '../../infra/local/dns-server.ts';
import { startPebble, type Pebble } from '../../infra/local/pebble.ts';
import { listeningSockets } from '../support/sockets.ts';

const LOOPBACK_V4_HEX = '0100007F';

describe('Pebble', () => {
  let dataDir: string;
  let dns: DnsServer;
  let pebble: Pebble;

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'pebble-test-'));
    dns = await startDnsServer();
    pebble = await startPebble({ dataDir: path.join(dataDir, 'pebble'), dnsServer: dns.address, httpChallengePort: 5002 });
  });
  after(async () => {
    await pebble?.stop();
    await dns?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serves the ACME directory over HTTPS signed by tlsCaPem', async () => {
    const response = await fetchText(pebble.directoryUrl, pebble.tlsCaPem);
    assert.equal(response.status, 200);
    const directory = JSON.parse(response.body) as Record<string, unknown>;
    for (const resource of ['newOrder', 'newAccount', 'newNonce']) {
      assert.match(String(directory[resource]), /^https:\/\/127\.0\.0\.1:\d+\//);
    }
  });

  it('is not trusted without tlsCaPem', async () => {
    await assert.rejects(fetchText(pebble.directoryUrl), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  it('hands out its issuing root from the management API', async () => {
    const root = new X509Certificate(await pebble.rootCertificatePem());
    assert.equal(root.ca, true);
    assert.equal(root.subject, root.issuer);
  });

  it('keeps its TLS private key private', async () => {
    const mode = (await stat(path.join(dataDir, 'pebble', 'tls-key.pem'))).mode & 0o777;
    assert.equal(mode, 0o600);
  });

  it('listens on 127.0.0.1 only', async () => {
    const ports = [pebble.directoryUrl, pebble.managementUrl].map((url) => Number(new URL(url).port));
    const listeners = await listeningSockets();
    for (const port of ports) {
      assert.deepEqual(
        listeners.filter((listener) => listener.port === port).map((listener) => listener.address),
        [LOOPBACK_V4_HEX],
      );
    }
  });

  it('is gone once stopped', async () => {
    await pebble.stop();
    assert.throws(() => process.kill(pebble.pid, 0), { code: 'ESRCH' });
  });
});

function fetchText(url: string, ca?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpsGet(url, { ca, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}
