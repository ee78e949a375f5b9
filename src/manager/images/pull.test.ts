// Pull against a real distribution registry on 127.0.0.1, with images pushed there by skopeo: OCI and
// Docker schema2 manifests, multi-platform indexes, verification, resume, and shared layers.
import assert from 'node:assert/strict';
import { readdir, readFile, rm, mkdtemp, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { kindOf } from '../../errors/index';
import { createDock, type Dock } from '../wiring';
import { pullImage } from './pull';
import { parseReference } from './reference';
import type { ProgressEvent } from './progress';
import { startRegistry, registrySkipReason, type Registry } from '../../../test/manager/registry';
import { makeBusyboxLayout, skopeoCopy, skopeoInspect, skopeoSkipReason, writeImage, writeIndex, writeLayout, tarDir, makeBusyboxRootfs } from '../../../test/manager/images';

const skip = registrySkipReason() ?? skopeoSkipReason();
let reg: Registry;
let work: string;

before(async () => {
  if (skip) return;
  work = await mkdtemp(path.join(tmpdir(), 'dock-pull-'));
  reg = await startRegistry();
});
after(async () => {
  if (skip) return;
  await reg?.stop();
  await rm(work, { recursive: true, force: true });
});

async function freshDock(): Promise<Dock> {
  return createDock({ root: await mkdtemp(path.join(work, 'root-')) });
}

test('pull an OCI image pushed by skopeo; skopeo reads our layout', { skip }, async () => {
  const layout = path.join(work, 'bb-oci');
  const m = await makeBusyboxLayout(work, layout);
  await skopeoCopy(`oci:${layout}:busybox`, `docker://${reg.host}/library/busybox:latest`);
  const dock = await freshDock();
  try {
    const events: ProgressEvent[] = [];
    const ref = parseReference(`${reg.host}/library/busybox`);
    const r = await pullImage(dock, ref, { progress: (e) => events.push(e) });
    assert.equal(r.record.name, `${reg.host}/library/busybox:latest`);
    assert.equal(r.record.target.digest, m.digest);
    assert.equal(r.record.repoDigest, m.digest);
    assert.equal(r.upToDate, false);
    for (const d of [r.manifest.config, ...r.manifest.layers]) assert.equal(await dock.content.has(d.digest), true);
    assert.ok(events.some((e) => e.status === 'Pull complete'));
    assert.ok(events.some((e) => e.status === 'Downloading' && e.current === e.total));
    const again = await pullImage(dock, ref);
    assert.equal(again.upToDate, true);
    const out = JSON.parse(await skopeoInspect(`oci:${dock.layoutDir}:${reg.host}/library/busybox:latest`, true));
    assert.equal(out.config.digest, r.manifest.config.digest);
  } finally {
    await dock.close();
  }
});

test('pull a Docker schema2 image (skopeo --format v2s2) keeps schema2', { skip }, async () => {
  const layout = path.join(work, 'bb-v2s2');
  await makeBusyboxLayout(work, layout, { marker: 'v2s2' });
  await skopeoCopy(`oci:${layout}:busybox`, `docker://${reg.host}/v2s2/busybox:1`, ['--format', 'v2s2']);
  const dock = await freshDock();
  try {
    const r = await pullImage(dock, parseReference(`${reg.host}/v2s2/busybox:1`));
    assert.equal(r.record.target.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    assert.equal(r.manifest.layers[0]!.mediaType, 'application/vnd.docker.image.rootfs.diff.tar.gzip');
    const layer = gunzipSync(await dock.content.readAll(r.manifest.layers[0]!.digest));
    assert.equal(`sha256:${createHash('sha256').update(layer).digest('hex')}`, r.config.rootfs.diff_ids[0]);
  } finally {
    await dock.close();
  }
});

test('multi-platform index: --platform picks the manifest; a missing platform is NotFound', { skip }, async () => {
  const layout = path.join(work, 'multi');
  const root = path.join(work, 'multi-root');
  await makeBusyboxRootfs(root, 'multi');
  const tar = await tarDir(root);
  const amd = await writeImage(layout, { layers: [{ tar }], architecture: 'amd64' });
  const arm = await writeImage(layout, { layers: [{ tar: Buffer.concat([tar.subarray(0, 512 * 3), Buffer.alloc(1024)]) }], architecture: 'arm64' });
  arm.platform = { os: 'linux', architecture: 'arm64', variant: 'v8' };
  const idx = await writeIndex(layout, [amd, arm]);
  await writeLayout(layout, { multi: idx });
  await skopeoCopy(`oci:${layout}:multi`, `docker://${reg.host}/multi:latest`, ['--all']);
  const dock = await freshDock();
  try {
    const a = await pullImage(dock, parseReference(`${reg.host}/multi`), { platform: { os: 'linux', architecture: 'amd64' } });
    assert.equal(a.record.target.digest, amd.digest);
    assert.equal(a.record.repoDigest, idx.digest);
    const b = await pullImage(dock, parseReference(`${reg.host}/multi`), { platform: { os: 'linux', architecture: 'arm64' } });
    assert.equal(b.record.target.digest, arm.digest);
    assert.equal(b.config.architecture, 'arm64');
    await assert.rejects(pullImage(dock, parseReference(`${reg.host}/multi`), { platform: { os: 'linux', architecture: 's390x' } }), (e) => kindOf(e) === 'NotFound' && /linux\/s390x/.test(String(e)));
  } finally {
    await dock.close();
  }
});

test('unknown tags and repositories are NotFound', { skip }, async () => {
  const dock = await freshDock();
  try {
    await assert.rejects(pullImage(dock, parseReference(`${reg.host}/nope/nothing:1`)), (e) => kindOf(e) === 'NotFound' && /manifest unknown/.test(String(e)));
  } finally {
    await dock.close();
  }
});

async function registryBlobPath(digest: string): Promise<string> {
  const hex = digest.slice(7);
  return path.join(reg.dir, 'storage', 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
}

test('a tampered blob is refused and nothing of it kept', { skip }, async () => {
  const layout = path.join(work, 'tamper');
  await makeBusyboxLayout(work, layout, { marker: 'tamper' });
  await skopeoCopy(`oci:${layout}:busybox`, `docker://${reg.host}/tamper:latest`);
  const manifest = JSON.parse(await skopeoInspect(`docker://${reg.host}/tamper:latest`, true));
  const layer = manifest.layers[0].digest as string;
  const p = await registryBlobPath(layer);
  const data = await readFile(p);
  data[100] = data[100]! ^ 0xff;
  await writeFile(p, data);
  const dock = await freshDock();
  try {
    await assert.rejects(pullImage(dock, parseReference(`${reg.host}/tamper`)), (e) => kindOf(e) === 'InvalidArgument' && /digest mismatch/.test(String(e)));
    assert.equal(await dock.content.has(layer), false);
    assert.deepEqual(await dock.content.listIngests(), []);
    await assert.rejects(dock.images.get(`${reg.host}/tamper:latest`), (e) => kindOf(e) === 'NotFound');
  } finally {
    await dock.close();
  }
});

test('a partial blob is resumed with a Range request, not downloaded again', { skip }, async () => {
  const layout = path.join(work, 'resume');
  await makeBusyboxLayout(work, layout, { marker: 'resume' });
  await skopeoCopy(`oci:${layout}:busybox`, `docker://${reg.host}/resume:latest`);
  const manifest = JSON.parse(await skopeoInspect(`docker://${reg.host}/resume:latest`, true));
  const layer = manifest.layers[0].digest as string;
  const full = await readFile(await registryBlobPath(layer));
  const half = Math.floor(full.length / 2);
  const dock = await freshDock();
  try {
    // Wrong bytes in the partial file prove the partial file is used: the digest cannot match.
    const w = await dock.content.writer(`pull-${layer}`);
    await w.write(Buffer.alloc(half, 0x55));
    await w.close();
    await assert.rejects(pullImage(dock, parseReference(`${reg.host}/resume`)), /digest mismatch/);
    const w2 = await dock.content.writer(`pull-${layer}`);
    await w2.write(full.subarray(0, half));
    await w2.close();
    await pullImage(dock, parseReference(`${reg.host}/resume`));
    assert.deepEqual(await dock.content.readAll(layer), full);
    assert.deepEqual(await dock.content.listIngests(), []);
  } finally {
    await dock.close();
  }
});

test('layers are shared across images: the second pull finds them already there', { skip }, async () => {
  const root = path.join(work, 'shared-root');
  await makeBusyboxRootfs(root, 'shared');
  const base = await tarDir(root);
  const layout = path.join(work, 'shared');
  await rm(path.join(root, 'bin'), { recursive: true });
  await writeFile(path.join(root, 'etc', 'marker'), 'second\n');
  const top = await tarDir(root);
  const one = await writeImage(layout, { layers: [{ tar: base }] });
  const two = await writeImage(layout, { layers: [{ tar: base }, { tar: top }] });
  await writeLayout(layout, { one, two });
  await skopeoCopy(`oci:${layout}:one`, `docker://${reg.host}/shared/one:latest`);
  await skopeoCopy(`oci:${layout}:two`, `docker://${reg.host}/shared/two:latest`);
  const dock = await freshDock();
  try {
    await pullImage(dock, parseReference(`${reg.host}/shared/one`));
    const events: ProgressEvent[] = [];
    const r = await pullImage(dock, parseReference(`${reg.host}/shared/two`), { progress: (e) => events.push(e) });
    const statuses = r.manifest.layers.map((l) => events.filter((e) => e.id === l.digest.slice(7, 19)).at(-1)?.status);
    assert.deepEqual(statuses, ['Already exists', 'Pull complete']);
    const blobs = await readdir(path.join(dock.layoutDir, 'blobs', 'sha256'));
    // index-less images: 2 manifests + 2 configs + 2 distinct layers
    assert.equal(blobs.length, 6);
    assert.ok((await stat(path.join(dock.layoutDir, 'index.json'))).size > 0);
  } finally {
    await dock.close();
  }
});

test('a partial blob that is already whole is committed (no range past the end), a wrong whole one refetched', { skip }, async () => {
  const layout = path.join(work, 'whole');
  await makeBusyboxLayout(work, layout, { marker: 'whole' });
  await skopeoCopy(`oci:${layout}:busybox`, `docker://${reg.host}/whole:latest`);
  const manifest = JSON.parse(await skopeoInspect(`docker://${reg.host}/whole:latest`, true));
  const layer = manifest.layers[0].digest as string;
  const full = await readFile(await registryBlobPath(layer));
  for (const partial of [full, Buffer.alloc(full.length, 0x33)]) {
    const dock = await freshDock();
    try {
      const w = await dock.content.writer(`pull-${layer}`);
      await w.write(partial);
      await w.close();
      const r = await pullImage(dock, parseReference(`${reg.host}/whole`));
      assert.equal(await dock.content.has(layer), true);
      assert.equal(r.record.name, `${reg.host}/whole:latest`);
    } finally {
      await dock.close();
    }
  }
});
