// Unpacking images into chain-ID snapshots: shared base layers unpacked once, diff IDs verified.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { LocalContentStore } from '../content/local/store';
import type { ImageConfig, ImageManifest } from '../images/manifest';
import { OverlaySnapshotter } from './overlay/overlay';
import { chainIds, gcSnapshots, unpackImage } from './unpack';
import { tarDir } from '../../../test/manager/images';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

test('chain ids follow the image-spec formula', () => {
  const a = sha('a');
  const b = sha('b');
  assert.deepEqual(chainIds([a, b]), [a, sha(`${a} ${b}`)]);
  assert.deepEqual(chainIds([]), []);
});

test('unpack: layers become committed chain-id snapshots, shared bases once, diff ids checked', async () => {
  const work = await fs.mkdtemp(path.join(tmpdir(), 'dock-unpack-'));
  try {
    const content = new LocalContentStore({ layoutDir: path.join(work, 'c'), ingestDir: path.join(work, 'i') });
    const sn = new OverlaySnapshotter(path.join(work, 's'));
    const tars: Buffer[] = [];
    for (const f of ['one', 'two', 'three']) {
      const d = path.join(work, `src-${f}`);
      await fs.mkdir(d);
      await fs.writeFile(path.join(d, f), f);
      tars.push(await tarDir(d));
    }
    const image = async (ts: Buffer[], diffs?: string[]) => {
      const layers = [];
      for (const t of ts) layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...(await content.put(gzipSync(t))) });
      const manifest = { schemaVersion: 2, config: { mediaType: 'x', digest: sha('c'), size: 1 }, layers } as ImageManifest;
      const config = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffs ?? ts.map((t) => sha(t)) } } as ImageConfig;
      return { manifest, config };
    };
    const a = await image([tars[0]!, tars[1]!]);
    const top = await unpackImage({ content, snapshotter: sn }, a.manifest, a.config);
    assert.equal(top, chainIds(a.config.rootfs.diff_ids)[1]);
    const b = await image([tars[0]!, tars[2]!]);
    await unpackImage({ content, snapshotter: sn }, b.manifest, b.config);
    const all = await sn.list();
    assert.equal(all.length, 3);
    assert.ok(all.every((s) => s.kind === 'committed'));
    assert.equal(all.filter((s) => s.parent === a.config.rootfs.diff_ids[0]).length, 2);
    const bad = await image([tars[1]!], [sha('not the content')]);
    await assert.rejects(unpackImage({ content, snapshotter: sn }, bad.manifest, bad.config), /diff id mismatch/);
    assert.equal((await sn.list()).length, 3, 'the failed extraction left no snapshot');
    const removed = await gcSnapshots(sn, [b.config.rootfs.diff_ids]);
    assert.deepEqual(removed, [chainIds(a.config.rootfs.diff_ids)[1]]);
    assert.deepEqual(await gcSnapshots(sn, []), chainIds(b.config.rootfs.diff_ids).reverse());
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
});
