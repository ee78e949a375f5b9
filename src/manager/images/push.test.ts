// Push against a real registry: monolithic and chunked uploads, HEAD skips, cross-repository mount,
// and interop the other way round (pushed by dock, pulled and checked by skopeo).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { createDock, type Dock } from '../wiring';
import { pullImage } from './pull';
import { pushImage } from './push';
import { tagImage } from './remove';
import { parseReference } from './reference';
import type { ProgressEvent } from './progress';
import { startRegistry, registrySkipReason, type Registry } from '../../../test/manager/registry';
import { makeBusyboxLayout, randomLayer, skopeoCopy, skopeoInspect, skopeoSkipReason, writeImage, writeLayout } from '../../../test/manager/images';

const skip = registrySkipReason() ?? skopeoSkipReason();
let reg: Registry;
let work: string;
let dock: Dock;

before(async () => {
  if (skip) return;
  work = await mkdtemp(path.join(tmpdir(), 'dock-push-'));
  reg = await startRegistry();
  dock = createDock({ root: path.join(work, 'root') });
  const layout = path.join(work, 'src');
  const bb = await makeBusyboxLayout(work, layout);
  const big = await writeImage(layout, { layers: [{ tar: await randomLayer(work, 3, 'a') }, { tar: await randomLayer(work, 2, 'b') }] });
  await writeLayout(layout, { busybox: bb, big });
  await skopeoCopy(`oci:${layout}:busybox`, `docker://${reg.host}/src/busybox:latest`);
  await skopeoCopy(`oci:${layout}:big`, `docker://${reg.host}/src/big:latest`);
  await pullImage(dock, parseReference(`${reg.host}/src/busybox`));
  await pullImage(dock, parseReference(`${reg.host}/src/big`));
});
after(async () => {
  if (skip) return;
  await dock?.close();
  await reg?.stop();
  await rm(work, { recursive: true, force: true });
});

test('push monolithic without mount; skopeo pulls it back identical', { skip }, async () => {
  await tagImage(dock, `${reg.host}/src/busybox`, `${reg.host}/dst/one:v1`);
  const events: ProgressEvent[] = [];
  const r = await pushImage(dock, `${reg.host}/dst/one:v1`, { noMount: true, progress: (e) => events.push(e) });
  const src = await dock.images.get(`${reg.host}/src/busybox:latest`);
  assert.equal(r.digest, src.target.digest);
  assert.ok(events.some((e) => e.status === 'Pushed'));
  assert.ok(events.some((e) => e.status === 'Pushing' && e.current === e.total && e.total! > 0));
  const raw = JSON.parse(await skopeoInspect(`docker://${reg.host}/dst/one:v1`, true));
  assert.deepEqual(raw, JSON.parse((await dock.content.readAll(src.target.digest)).toString()));
  const out = path.join(work, 'back');
  await skopeoCopy(`docker://${reg.host}/dst/one:v1`, `oci:${out}:x`);
  assert.equal((await dock.images.get(`${reg.host}/dst/one:v1`)).repoDigest, r.digest);
  // A second push finds every blob there already.
  const again: ProgressEvent[] = [];
  await pushImage(dock, `${reg.host}/dst/one:v1`, { progress: (e) => again.push(e) });
  assert.ok(again.filter((e) => e.status === 'Layer already exists').length >= 1);
  assert.ok(!again.some((e) => e.status === 'Pushing'));
});

test('push chunked (PATCH with Content-Range) of a multi-layer image', { skip }, async () => {
  await tagImage(dock, `${reg.host}/src/big`, `${reg.host}/dst/chunked:latest`);
  const events: ProgressEvent[] = [];
  const r = await pushImage(dock, `${reg.host}/dst/chunked`, { noMount: true, chunkSize: 1 << 20, progress: (e) => events.push(e) });
  const m = JSON.parse(await skopeoInspect(`docker://${reg.host}/dst/chunked:latest`, true));
  assert.equal(m.layers.length, 2);
  assert.equal(r.digest, (await dock.images.get(`${reg.host}/src/big:latest`)).target.digest);
  const fresh = createDock({ root: path.join(work, 'root2') });
  try {
    const p = await pullImage(fresh, parseReference(`${reg.host}/dst/chunked`));
    assert.equal(p.record.target.digest, r.digest);
  } finally {
    await fresh.close();
  }
});

test('push mounts blobs from another repository of the same registry', { skip }, async () => {
  await tagImage(dock, `${reg.host}/src/big`, `${reg.host}/dst/mounted:latest`);
  const events: ProgressEvent[] = [];
  await pushImage(dock, `${reg.host}/dst/mounted`, { progress: (e) => events.push(e) });
  const mounted = events.filter((e) => e.status === 'Mounted');
  assert.equal(mounted.length, 2, JSON.stringify(events));
  assert.ok(mounted.every((e) => /^from (src\/big|dst\/chunked)$/.test(e.detail ?? '')));
  assert.ok(!events.some((e) => e.status === 'Pushing'));
});
