// Runs the ContentStore contract suite against the OCI-layout store, and checks the layout itself
// is one skopeo can read.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runContentSuite } from '../testsuite';
import { LocalContentStore } from './store';

runContentSuite('local', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'dock-content-'));
  const store = new LocalContentStore({ layoutDir: path.join(dir, 'layout'), ingestDir: path.join(dir, 'ingest') });
  return { store, cleanup: () => rm(dir, { recursive: true, force: true }) };
});

test('local store writes an OCI layout (oci-layout, index.json, blobs/sha256)', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'dock-content-'));
  try {
    const layout = path.join(dir, 'layout');
    const store = new LocalContentStore({ layoutDir: layout, ingestDir: path.join(dir, 'ingest') });
    const info = await store.put(Buffer.from('{}'));
    assert.deepEqual(JSON.parse(await readFile(path.join(layout, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
    assert.deepEqual(JSON.parse(await readFile(path.join(layout, 'index.json'), 'utf8')), { schemaVersion: 2, manifests: [] });
    assert.equal(await readFile(path.join(layout, 'blobs', 'sha256', info.digest.slice(7)), 'utf8'), '{}');
    assert.equal(store.blobPath(info.digest), path.join(layout, 'blobs', 'sha256', info.digest.slice(7)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
