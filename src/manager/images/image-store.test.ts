// Image records in index.json: put/get/list/delete, replacement by name, annotations on disk, and
// concurrent writers not losing each other's records.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { kindOf } from '../../errors/index';
import { LayoutImageStore } from './image-store';

const desc = (c: string) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:' + c.repeat(64), size: 10 });

test('image store: records by name in index.json', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'dock-images-'));
  try {
    const s = new LayoutImageStore(dir);
    assert.deepEqual(await s.list(), []);
    await s.put({ name: 'docker.io/library/busybox:latest', target: desc('a'), repoDigest: 'sha256:' + 'c'.repeat(64) });
    await s.put({ name: 'docker.io/library/busybox:1', target: desc('a') });
    await s.put({ name: 'docker.io/library/busybox:latest', target: desc('b') });
    const names = (await s.list()).map((r) => r.name).sort();
    assert.deepEqual(names, ['docker.io/library/busybox:1', 'docker.io/library/busybox:latest']);
    const rec = await s.get('docker.io/library/busybox:latest');
    assert.equal(rec.target.digest, desc('b').digest);
    assert.equal(rec.repoDigest, undefined);
    const idx = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8'));
    const entry = idx.manifests.find((d: { digest: string }) => d.digest === desc('b').digest);
    assert.equal(entry.annotations['org.opencontainers.image.ref.name'], 'docker.io/library/busybox:latest');
    assert.equal(entry.annotations['io.containerd.image.name'], 'docker.io/library/busybox:latest');
    await s.delete('docker.io/library/busybox:1');
    await assert.rejects(s.get('docker.io/library/busybox:1'), (e) => kindOf(e) === 'NotFound');
    await assert.rejects(s.delete('docker.io/library/busybox:1'), (e) => kindOf(e) === 'NotFound');
    await Promise.all(Array.from({ length: 20 }, (_, i) => s.put({ name: `x/y:${i}`, target: desc('d') })));
    assert.equal((await s.list()).length, 21);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
