// Leases: held digests survive gc; leases of dead processes are dropped.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { LocalContentStore } from './content/local/store';
import { LayoutImageStore } from './images/image-store';
import { gc } from './images/remove';
import { Leases } from './leases';

test('gc keeps blobs held by a live lease and drops leases of dead pids', async () => {
  const dir = await fs.mkdtemp(path.join(tmpdir(), 'dock-leases-'));
  try {
    const content = new LocalContentStore({ layoutDir: path.join(dir, 'c'), ingestDir: path.join(dir, 'i') });
    const images = new LayoutImageStore(path.join(dir, 'c'));
    const leases = new Leases(path.join(dir, 'leases'));
    const a = await content.put(Buffer.from('held'));
    const b = await content.put(Buffer.from('loose'));
    const lease = await leases.create();
    await lease.add(a.digest);
    const dead = spawnSync('true').pid!;
    await fs.writeFile(path.join(dir, 'leases', `${dead}-abc`), b.digest);
    assert.deepEqual(await gc({ content, images, leases }), [b.digest]);
    assert.equal(await content.has(a.digest), true);
    const left = await fs.readdir(path.join(dir, 'leases'));
    assert.equal(left.length, 1);
    assert.ok(left[0]!.startsWith(`${process.pid}-`), 'the dead pid\'s lease was removed');
    await lease.release();
    assert.deepEqual(await gc({ content, images, leases }), [a.digest]);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
