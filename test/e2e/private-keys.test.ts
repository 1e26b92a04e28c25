// A certificate's private key stays inside: after a full run (issued, uploaded,
// replaced, failed, removed, a database's issued and rotated) nothing that was logged, stored, returned, or passed
// between workflow states holds any private key's bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KEPT_CERTIFICATE_FILE } from '../../functions/adapters/databases/local-database-servers.ts';
import { LOCAL_DNS_TARGET_SUFFIX } from '../../infra/local/cloud.ts';
import { issue } from '../support/certificates.ts';
import { addDomain, api, useLocalCloud, waitForStatus } from '../support/local-cloud.ts';
import { captureOutput, placesHoldingKeys, scanAllTables, workflowRecords } from '../support/private-keys.ts';

const output = captureOutput();

const cloud = useLocalCloud();
const APP = 'secrets';

test('no private key bytes in logs, events, tables, API answers or workflow state', async () => {
  const answers: unknown[] = [];
  const call = async (method: string, path: string, body?: unknown) => {
    const answer = await api(cloud(), method, path, body);
    answers.push(answer);
    return answer;
  };

  cloud().dns.zone.set('www.secrets.test', 'CNAME', [`${APP}.${LOCAL_DNS_TARGET_SUFFIX}`]);
  await addDomain(cloud(), APP, 'www.secrets.test');
  await waitForStatus(cloud(), APP, 'www.secrets.test', ['Cert Issued']);
  await addDomain(cloud(), APP, 'broken.secrets.test');
  await waitForStatus(cloud(), APP, 'broken.secrets.test', ['Failing']);
  const managedKey = (await cloud().certificates.findForHostname('www.secrets.test'))!.privateKeyPem;

  // A database's certificate: its key goes to the database host only.
  const cluster = await cloud().addDatabase(APP, 'main');
  const databasePath = `/apps/${APP}/databases/main/enhanced-certificates`;
  await call('POST', databasePath);
  let databaseStatus = await call('GET', databasePath);
  for (const deadline = Date.now() + 30_000; databaseStatus.body.status !== 'Cert Issued' && Date.now() < deadline;) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    databaseStatus = await call('GET', databasePath);
  }
  assert.equal(databaseStatus.body.status, 'Cert Issued');
  const kept = JSON.parse(await readFile(join(cluster.dir, KEPT_CERTIFICATE_FILE), 'utf8')) as { privateKeyPem: string };
  const databaseKey = kept.privateKeyPem;
  await call('GET', `${databasePath}/trust-bundle`);
  const otherRoot = databaseStatus.body.availableRoots.find((root: string) => root !== databaseStatus.body.servedRoot);
  assert.equal((await call('POST', `${databasePath}/rotate`, { root: otherRoot })).status, 202);
  await call('GET', `/apps/${APP}/domains/${databaseStatus.body.hostname}/events`);

  const root = await issue({ subject: 'CN=Secrets Root', ca: true });
  const uploaded = await issue({ subject: 'CN=shop.secrets.test', issuer: root, names: ['shop.secrets.test'] });
  const replacement = await issue({ subject: 'CN=shop.secrets.test', issuer: root, names: ['shop.secrets.test'] });
  const created = await call('POST', `/apps/${APP}/certs`, { certificateChain: uploaded.pem, privateKey: uploaded.keyPem });
  assert.equal(created.status, 201);
  await call('PUT', `/apps/${APP}/certs/${created.body.name}`, { certificateChain: replacement.pem, privateKey: replacement.keyPem });
  // A refused upload must not echo the key either.
  await call('PUT', `/apps/${APP}/certs/${created.body.name}`, { certificateChain: uploaded.pem, privateKey: replacement.keyPem });
  await call('GET', `/apps/${APP}/certs`);
  await call('GET', `/apps/${APP}/acm`);
  await call('GET', `/apps/${APP}/domains/www.secrets.test/events`);
  await call('DELETE', `/apps/${APP}/certs/${created.body.name}`);

  const items = await scanAllTables(cloud().dynamodbEndpoint);
  assert.ok(Object.keys(items).length >= 3);
  const executions = workflowRecords(cloud().workflows);
  assert.ok(
    executions.some((execution) => execution.history.length > 10),
    'the workflow history was recorded',
  );
  const onDisk = await Promise.all(
    (await readdir(cloud().dataDir, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile() && entry.parentPath.includes('certificates'))
      .map((entry) => readFile(join(entry.parentPath, entry.name), 'utf8')),
  );

  const places: Record<string, string> = {
    'what was logged': output.join(''),
    'the DynamoDB tables (events, status, challenges)': JSON.stringify(items),
    'API answers': JSON.stringify(answers),
    'workflow inputs, outputs and errors': JSON.stringify(executions),
    'certificate files on disk': onDisk.join('\n'),
  };
  for (const [where, text] of Object.entries(places)) assert.ok(text.length > 0, `${where}: nothing was captured`);
  assert.deepEqual(placesHoldingKeys(places, [managedKey, databaseKey, uploaded.keyPem, replacement.keyPem]), []);
});
