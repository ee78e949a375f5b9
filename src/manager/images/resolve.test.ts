// resolveImage and hasImage on real stores in a temp dir: an id (full, prefixed, a prefix) finds the
// image through its own id record or through any name, ambiguity and missing configs are reported,
// and an image whose config blob was removed no longer exists for hasImage.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { kindOf } from '../../errors/index';
import { LocalContentStore } from '../content/local/store';
import { LayoutImageStore } from './image-store';
import { MediaType } from './manifest';
import { hasImage, resolveImage } from './resolve';

async function addImage(content: LocalContentStore, images: LayoutImageStore, name: string, label: string): Promise<string> {
  const config = { architecture: 'amd64', os: 'linux', config: { Labels: { l: label } }, rootfs: { type: 'layers', diff_ids: [] } };
  const c = await content.put(Buffer.from(JSON.stringify(config)));
  const m = await content.put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, digest: c.digest, size: c.size }, layers: [] })));
  await images.put({ name: name === '' ? c.digest : name, target: { mediaType: MediaType.ociManifest, digest: m.digest, size: m.size } });
  return c.digest;
}

test('images by id: own id record, a name, prefixes, ambiguity, a removed config', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'dock-resolve-'));
  try {
    const content = new LocalContentStore({ layoutDir: dir, ingestDir: path.join(dir, 'ingest') });
    const images = new LayoutImageStore(dir);
    const deps = { content, images };
    const step = await addImage(content, images, '', 'step');
    const named = await addImage(content, images, 'docker.io/library/app:latest', 'named');
    for (const id of [step, named]) {
      assert.equal((await resolveImage(deps, id)).image.id, id);
      assert.equal((await resolveImage(deps, id.slice(7))).image.id, id, 'without sha256:');
      assert.equal((await resolveImage(deps, id.slice(7, 19))).image.id, id, 'a 12-digit prefix');
      assert.equal(await hasImage(deps, id), true);
    }
    assert.equal((await resolveImage(deps, named)).image.config.config?.Labels?.l, 'named');
    assert.equal((await resolveImage(deps, 'app')).image.id, named);
    const other = 'sha256:' + (step.slice(7, 8) === 'f' ? '0' : 'f').repeat(64);
    assert.equal(await hasImage(deps, other), false);
    await assert.rejects(resolveImage(deps, other), (e) => kindOf(e) === 'NotFound');
    // Many images share a 1-digit prefix only by chance; with 20 more, some prefix is shared.
    const ids = [step, named];
    for (let i = 0; i < 20; i++) ids.push(await addImage(content, images, '', `more ${i}`));
    const shared = ids.map((i) => i.slice(7, 8)).find((p, k, all) => all.indexOf(p) !== k)!;
    await assert.rejects(resolveImage(deps, shared), { message: `ambiguous image id prefix ${shared}` });
    await content.delete(named);
    assert.equal(await hasImage(deps, named), false, 'config blob gone');
    await assert.rejects(resolveImage(deps, named), (e) => kindOf(e) === 'NotFound');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
