// dock pull / images / tag / inspect / history / rmi through the CLI against a real registry.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { startRegistry, registrySkipReason, type Registry } from './registry';
import { makeBusyboxLayout, skopeoCopy, skopeoSkipReason } from './images';
import { dock, REPO_ROOT } from './dock';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const skip = registrySkipReason() ?? skopeoSkipReason();
let reg: Registry;
let work: string;
let root: string;
let manifestDigest: string;

before(async () => {
  if (skip) return;
  work = await mkdtemp(path.join(tmpdir(), 'dock-cli-'));
  root = path.join(work, 'root');
  reg = await startRegistry();
  const layout = path.join(work, 'bb');
  manifestDigest = (await makeBusyboxLayout(work, layout)).digest;
  await skopeoCopy(`oci:${layout}:busybox`, `docker://${reg.host}/library/busybox:latest`);
});
after(async () => {
  if (skip) return;
  await reg?.stop();
  await rm(work, { recursive: true, force: true });
});

test('dock pull prints docker-like plain lines when stdout is not a terminal', { skip }, async () => {
  const r = await dock(root, ['pull', `${reg.host}/library/busybox`]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines[0], 'Using default tag: latest');
  assert.equal(lines[1], 'latest: Pulling from library/busybox');
  assert.ok(lines.some((l) => /^[a-f0-9]{12}: Pull complete$/.test(l)), r.stdout);
  assert.ok(!r.stdout.includes('\x1b['), 'no escape codes in a pipe');
  assert.ok(lines.includes(`Digest: ${manifestDigest}`));
  assert.ok(lines.includes(`Status: Downloaded newer image for ${reg.host}/library/busybox:latest`));
  assert.equal(lines.at(-1), `${reg.host}/library/busybox:latest`);
  const again = await dock(root, ['pull', `${reg.host}/library/busybox:latest`]);
  assert.match(again.stdout, /Status: Image is up to date for/);
});

test('dock pull draws progress bars on a terminal', { skip: skip ?? (!existsSync('/usr/bin/script') && 'script(1) not installed') }, async () => {
  const ttyRoot = path.join(work, 'tty-root');
  const cmd = [process.execPath, '--import', 'tsx', path.join(REPO_ROOT, 'test/manager/legacy-cli/main.ts'), '--root', ttyRoot, 'pull', `${reg.host}/library/busybox`];
  const out = execFileSync('script', ['-qec', cmd.map((a) => `'${a}'`).join(' '), '/dev/null'], { encoding: 'utf8', cwd: REPO_ROOT });
  assert.match(out, /\x1b\[\?25l/, 'cursor hidden while bars are drawn');
  assert.match(out, /[a-f0-9]{12}: Pull complete/);
  assert.match(out, /Status: Downloaded newer image/);
});

test('dock images, tag, inspect, history', { skip }, async () => {
  const t = await dock(root, ['tag', `${reg.host}/library/busybox`, 'mybox:v1']);
  assert.equal(t.code, 0, t.stderr);
  const imgs = await dock(root, ['images']);
  assert.equal(imgs.code, 0, imgs.stderr);
  const lines = imgs.stdout.trim().split('\n');
  assert.match(lines[0]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
  assert.ok(lines.some((l) => /^mybox\s+v1\s+[a-f0-9]{12}\s+\d+ years ago\s+[\d.]+[kM]B$/.test(l)), imgs.stdout);
  const q = await dock(root, ['images', '-q']);
  assert.equal(q.stdout.trim().split('\n').length, 1);
  const ins = await dock(root, ['inspect', 'mybox:v1']);
  assert.equal(ins.code, 0, ins.stderr);
  const [obj] = JSON.parse(ins.stdout);
  assert.match(obj.Id, /^sha256:[a-f0-9]{64}$/);
  assert.deepEqual(obj.RepoTags.sort(), [`${reg.host}/library/busybox:latest`, 'mybox:v1'].sort());
  assert.deepEqual(obj.RepoDigests, [`${reg.host}/library/busybox@${manifestDigest}`]);
  assert.deepEqual(obj.Config.Cmd, ['sh']);
  assert.equal(obj.Config.Labels['dev.keel.test'], 'busybox');
  assert.equal(obj.Os, 'linux');
  assert.equal(obj.RootFS.Type, 'layers');
  assert.equal(obj.RootFS.Layers.length, 1);
  const f = await dock(root, ['inspect', '--format', '{{.Os}}/{{.Architecture}} {{json .Config.Cmd}}', obj.Id.slice(7, 19)]);
  assert.equal(f.stdout, 'linux/amd64 ["sh"]\n');
  const h = await dock(root, ['history', 'mybox:v1']);
  assert.equal(h.code, 0, h.stderr);
  assert.match(h.stdout.split('\n')[0]!, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
  assert.match(h.stdout.split('\n')[1]!, new RegExp(`^${obj.Id.slice(7, 19)}\\s+\\d+ years ago\\s+layer 0\\s+[\\d.]+[kM]B`));
});

test('dock push prints the digest line and the registry serves the manifest', { skip }, async () => {
  assert.equal((await dock(root, ['tag', 'mybox:v1', `${reg.host}/pushed/box:v2`])).code, 0);
  const r = await dock(root, ['push', `${reg.host}/pushed/box:v2`]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines[0], `The push refers to repository [${reg.host}/pushed/box]`);
  assert.ok(lines.some((l) => /^[a-f0-9]{12}: (Pushed|Mounted from library\/busybox)$/.test(l)), r.stdout);
  assert.match(lines.at(-1)!, new RegExp(`^v2: digest: ${manifestDigest} size: \\d+$`));
  const res = await fetch(`http://${reg.host}/v2/pushed/box/manifests/v2`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(res.headers.get('docker-content-digest'), manifestDigest);
  const rm = await dock(root, ['rmi', `${reg.host}/pushed/box:v2`]);
  assert.equal(rm.stdout, `Untagged: ${reg.host}/pushed/box:v2\nUntagged: ${reg.host}/pushed/box@${manifestDigest}\n`);
});

test('unknown images: docker wording, exit 1', { skip }, async () => {
  for (const verb of [['inspect'], ['history'], ['rmi'], ['tag']]) {
    const args = verb[0] === 'tag' ? ['tag', 'busybox', 'x:1'] : [...verb, 'busybox'];
    const r = await dock(root, args);
    assert.equal(r.code, 1, verb.join(' '));
    assert.match(r.stderr, /No such image: busybox:latest/);
  }
});

test('dock rmi untags, deletes and garbage-collects blobs', { skip }, async () => {
  const blobs = () => readdir(path.join(root, 'content', 'blobs', 'sha256'));
  assert.equal((await blobs()).length, 3);
  const byId = await dock(root, ['inspect', '--format', '{{.Id}}', 'mybox:v1']);
  const id = byId.stdout.trim();
  const conflict = await dock(root, ['rmi', id.slice(7, 19)]);
  assert.equal(conflict.code, 1);
  assert.match(conflict.stderr, /must be forced/);
  const r1 = await dock(root, ['rmi', 'mybox:v1']);
  assert.equal(r1.stdout, 'Untagged: mybox:v1\n');
  assert.equal((await blobs()).length, 3);
  const r2 = await dock(root, ['rmi', `${reg.host}/library/busybox`]);
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal(r2.stdout, `Untagged: ${reg.host}/library/busybox:latest\nUntagged: ${reg.host}/library/busybox@${manifestDigest}\nDeleted: ${id}\n`);
  assert.deepEqual(await blobs(), []);
  const imgs = await dock(root, ['images', '-q']);
  assert.equal(imgs.stdout, '');
});
