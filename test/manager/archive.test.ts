// dock save / dock load: round trip with unchanged digests, interop with skopeo's docker-archive and
// oci-archive (both directions), compressed input.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { dock } from './dock';
import { makeBusyboxLayout, skopeoCopy, skopeoSkipReason } from './images';
import { registrySkipReason, startRegistry, type Registry } from './registry';

const skip = registrySkipReason() ?? skopeoSkipReason();
let work: string;
let reg: Registry;
let layout: string;
let manifestDigest: string;
let src: string;

before(async () => {
  if (skip) return;
  work = await fs.mkdtemp(path.join(tmpdir(), 'dock-archive-'));
  reg = await startRegistry();
  layout = path.join(work, 'bb');
  manifestDigest = (await makeBusyboxLayout(work, layout)).digest;
  await skopeoCopy(`oci:${layout}:busybox`, `docker://${reg.host}/library/busybox:latest`);
  src = path.join(work, 'src-root');
  assert.equal((await dock(src, ['pull', '-q', `${reg.host}/library/busybox`])).code, 0);
  assert.equal((await dock(src, ['tag', `${reg.host}/library/busybox`, 'busybox:saved'])).code, 0);
});
after(async () => {
  if (skip) return;
  await reg?.stop();
  await fs.rm(work, { recursive: true, force: true });
});

const idOf = async (root: string, name: string) => (await dock(root, ['inspect', '--format', '{{.Id}}', name])).stdout.trim();

test('save then load into another root keeps names and digests', { skip }, async () => {
  const file = path.join(work, 'saved.tar');
  const s = await dock(src, ['save', '-o', file, 'busybox:saved']);
  assert.equal(s.code, 0, s.stderr);
  const list = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).split('\n');
  for (const f of ['oci-layout', 'index.json', 'manifest.json', `blobs/sha256/${manifestDigest.slice(7)}`]) assert.ok(list.includes(f), f);
  const dst = path.join(work, 'dst-root');
  const l = await dock(dst, ['load', '-i', file]);
  assert.equal(l.code, 0, l.stderr);
  assert.equal(l.stdout, 'Loaded image: busybox:saved\n');
  assert.equal(await idOf(dst, 'busybox:saved'), await idOf(src, 'busybox:saved'));
  const ins = JSON.parse((await dock(dst, ['inspect', 'busybox:saved'])).stdout)[0];
  assert.equal(ins.Descriptor.digest, manifestDigest);
});

test('skopeo reads what dock save writes, as docker-archive and as oci-archive', { skip }, async () => {
  const file = path.join(work, 'for-skopeo.tar');
  assert.equal((await dock(src, ['save', '-o', file, 'busybox:saved'])).code, 0);
  const viaDocker = JSON.parse(execFileSync('skopeo', ['inspect', `docker-archive:${file}`], { encoding: 'utf8' }));
  assert.equal(viaDocker.Architecture, 'amd64');
  const out = path.join(work, 'from-docker-archive');
  await skopeoCopy(`docker-archive:${file}`, `oci:${out}:x`);
  const viaOci = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', `oci-archive:${file}:saved`], { encoding: 'utf8' }));
  assert.equal(viaOci.layers.length, 1);
});

test('load what skopeo writes: legacy docker-archive, oci-archive, gzip-compressed', { skip }, async () => {
  const legacy = path.join(work, 'legacy.tar');
  await skopeoCopy(`oci:${layout}:busybox`, `docker-archive:${legacy}:legacy/box:1`);
  const ociArchive = path.join(work, 'oci.tar');
  await skopeoCopy(`oci:${layout}:busybox`, `oci-archive:${ociArchive}:example.com/oci/box:2`);
  const root = path.join(work, 'load-root');
  const a = await dock(root, ['load', '-i', legacy]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stdout, 'Loaded image: legacy/box:1\n');
  const b = await dock(root, ['load', '-i', ociArchive]);
  assert.equal(b.code, 0, b.stderr);
  assert.equal(b.stdout, 'Loaded image: example.com/oci/box:2\n');
  assert.equal(await idOf(root, 'legacy/box:1'), await idOf(root, 'example.com/oci/box:2'));
  const gz = path.join(work, 'legacy.tar.gz');
  execFileSync('sh', ['-c', `gzip -c ${legacy} > ${gz}`]);
  const root2 = path.join(work, 'load-root2');
  const c = await dock(root2, ['load', '-i', gz]);
  assert.equal(c.stdout, 'Loaded image: legacy/box:1\n');
  const hist = await dock(root2, ['history', 'legacy/box:1']);
  assert.equal(hist.code, 0, hist.stderr);
  const bad = await dock(root2, ['load', '-i', path.join(layout, 'oci-layout')]);
  assert.equal(bad.code, 1);
});
