// commitSnapshot as the builder uses it, on real stores in a temp dir (no mounts): the new image's
// config, history, rootfs and OCI manifest; the snapshot adopted as the new chain (mount stubs
// removed, so running the image unpacks nothing); an unchanged snapshot giving an empty layer.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { tarDir } from '../../../test/manager/images';
import { realSys } from '../../native/index';
import { LocalContentStore } from '../content/local/store';
import { LayoutImageStore } from '../images/image-store';
import { importImage } from '../images/import';
import { parseConfig, parseManifestOrIndex } from '../images/manifest';
import { loadImage } from '../images/resolve';
import { commitSnapshot } from './commit';
import { EMPTY_LAYER_DIFF_ID } from './layer-writer';
import { OverlaySnapshotter } from './overlay/overlay';
import { chainIds, prepareContainerRootfs, unpackImage } from './unpack';

let work: string;
let deps: { content: LocalContentStore; images: LayoutImageStore; snapshotter: OverlaySnapshotter; fsr: typeof realSys };

before(async () => {
  work = await fs.mkdtemp(path.join(tmpdir(), 'dock-commit-'));
  const layout = path.join(work, 'content');
  deps = {
    content: new LocalContentStore({ layoutDir: layout, ingestDir: path.join(work, 'ingest') }),
    images: new LayoutImageStore(layout),
    snapshotter: new OverlaySnapshotter(path.join(work, 'snapshots')),
    fsr: realSys,
  };
});
after(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

async function baseImage() {
  const src = path.join(work, 'base');
  await fs.mkdir(path.join(src, 'etc'), { recursive: true });
  await fs.writeFile(path.join(src, 'etc/passwd'), 'root:x:0:0\n');
  const tar = await tarDir(src);
  const r = await importImage(deps, (async function* () {
    yield tar;
  })(), { repo: 'base', changes: ['CMD ["sh"]'] });
  return loadImage(deps, await deps.images.get(r.name!));
}

test('a build step: the changes become a layer, the snapshot the new chain', async () => {
  const base = await baseImage();
  const top = await unpackImage(deps, base.manifest, base.config);
  await prepareContainerRootfs(deps.snapshotter, 'step1', top);
  const key = 'container-step1';
  const upper = await deps.snapshotter.upperDir(key);
  await fs.mkdir(path.join(upper, 'app'));
  await fs.writeFile(path.join(upper, 'app/hello'), 'hi\n');
  await fs.mkdir(path.join(upper, 'etc'));
  await fs.writeFile(path.join(upper, 'etc/hosts'), '');
  const r = await commitSnapshot(deps, {
    key,
    base,
    config: { Cmd: ['cat', '/app/hello'], Env: ['A=1'] },
    createdBy: '/bin/sh -c echo hi > /app/hello',
    comment: 'step',
    name: 'docker.io/library/built:1',
    consumeSnapshot: true,
  });
  assert.equal(r.emptyLayer, false);
  const rec = await deps.images.get('docker.io/library/built:1');
  const manifest = parseManifestOrIndex(await deps.content.readAll(rec.target.digest), rec.target.mediaType).manifest!;
  const config = parseConfig(await deps.content.readAll(manifest.config.digest));
  assert.equal(manifest.config.digest, r.id);
  assert.deepEqual(config.rootfs.diff_ids, [...base.config.rootfs.diff_ids, r.diffId]);
  assert.equal(manifest.layers.length, 2);
  assert.equal(manifest.layers[1]!.digest, r.diffId, 'an uncompressed layer: digest = diff id');
  assert.deepEqual(config.config?.Cmd, ['cat', '/app/hello']);
  assert.deepEqual(config.history?.map((h) => h.created_by), ['', '/bin/sh -c echo hi > /app/hello']);
  assert.equal(config.history?.at(-1)?.comment, 'step');
  const chain = chainIds(config.rootfs.diff_ids).at(-1)!;
  assert.equal((await deps.snapshotter.stat(chain)).kind, 'committed', 'the snapshot is the new chain');
  await assert.rejects(deps.snapshotter.stat(key), /not found/);
  const next = await loadImage(deps, rec);
  assert.equal(await unpackImage(deps, next.manifest, next.config), chain, 'nothing left to unpack');
  await prepareContainerRootfs(deps.snapshotter, 'step2', chain);
  const view = (await deps.snapshotter.mounts('container-step2'))[0]!.options.find((o) => o.startsWith('lowerdir='))!.slice(9).split(':')[0]!;
  assert.equal(await fs.readFile(path.join(view, 'app/hello'), 'utf8'), 'hi\n');
  await assert.rejects(fs.lstat(path.join(view, 'etc/hosts')), /ENOENT/, 'the mount stub is not in the layer');

  const empty = await commitSnapshot(deps, { key: 'container-step2', base: next, config: next.config.config ?? {}, createdBy: 'true' });
  assert.equal(empty.emptyLayer, true);
  assert.equal(empty.diffId, EMPTY_LAYER_DIFF_ID);
  assert.deepEqual(empty.config.rootfs.diff_ids, next.config.rootfs.diff_ids);
  assert.equal(empty.config.history?.at(-1)?.empty_layer, true);
  assert.equal((await deps.images.get(empty.id)).target.digest, empty.manifest.digest, 'an untagged image is recorded by id');
});
