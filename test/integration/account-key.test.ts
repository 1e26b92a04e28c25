// The ACME account key store on real files: concurrent first uses make one key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileAccountKey } from '../../functions/adapters/acme/account-key.ts';

test('concurrent first loads on fresh instances all return the one key that was stored', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'account-key-'));
  try {
    for (let round = 0; round < 20; round += 1) {
      const path = join(dir, `account-${round}.pem`);
      const keys = await Promise.all(Array.from({ length: 16 }, () => new FileAccountKey(path).load()));
      assert.equal(new Set(keys).size, 1, `round ${round}: one key`);
      assert.equal(createPrivateKey(keys[0]!).asymmetricKeyType, 'ec');
      assert.equal(await new FileAccountKey(path).load(), keys[0], 'a later load reads it again');
      assert.equal((await stat(path)).mode & 0o777, 0o600);
    }
    assert.deepEqual(
      (await readdir(dir)).filter((name) => name.endsWith('.tmp')),
      [],
      'no draft left behind',
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
