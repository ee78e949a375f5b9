// The layer writer and docker diff on a hand-made overlay upper dir over a lower dir: whiteouts,
// opaque dirs, hard links, symlinks, fifos, long names, xattrs, the runtime's mount stubs and
// copied-up directories left out, byte-identical output for the same tree, a round trip through
// applyLayer, and multi-layer lower lookups. Needs root (char 0/0 whiteouts, trusted.* xattrs).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { realSys } from '../../native/index';
import { applyLayer } from './apply-layer';
import { changeLetter, overlayChanges } from './changes';
import { EMPTY_LAYER_DIFF_ID, tarTree, tarUpperDir } from './layer-writer';
import { LowerView } from './overlay-lower';
import { readTar, type TarHeader } from './tar-reader';
import { encodeTarHeader, TAR_END } from './tar-writer';

const isRoot = process.getuid?.() === 0;
const T = 1_600_000_000;
const LONG = `${'n'.repeat(120)}/${'f'.repeat(90)}.txt`;

async function collect(g: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of g) parts.push(c);
  return Buffer.concat(parts);
}

async function* chunks(b: Buffer): AsyncGenerator<Buffer> {
  for (let i = 0; i < b.length; i += 3000) yield b.subarray(i, i + 3000);
}

async function entries(tar: Buffer): Promise<{ h: TarHeader; body: string }[]> {
  const out: { h: TarHeader; body: string }[] = [];
  for await (const { header, body } of readTar(chunks(tar))) {
    const parts: Buffer[] = [];
    for await (const c of body) parts.push(c);
    out.push({ h: header, body: Buffer.concat(parts).toString() });
  }
  return out;
}

async function write(p: string, data: string, mode = 0o644): Promise<void> {
  await fs.mkdir(path.dirname(p), { recursive: true });
  await fs.writeFile(p, data, { mode });
  await fs.chmod(p, mode);
  await fs.utimes(p, T, T);
}

/** Copies a directory's metadata onto another (an overlay copy-up of a directory). */
async function copyUp(from: string, to: string): Promise<void> {
  const st = await fs.stat(from);
  await fs.mkdir(to, { recursive: true });
  await fs.chmod(to, st.mode & 0o7777);
  await fs.chown(to, st.uid, st.gid);
  await fs.utimes(to, st.atime, st.mtime);
}

describe('layer writer and diff', { skip: isRoot ? undefined : 'needs root' }, () => {
  let work: string;
  let lower: string;
  let upper: string;
  before(async () => {
    work = await fs.mkdtemp(path.join(tmpdir(), 'dock-layerw-'));
    lower = path.join(work, 'lower');
    upper = path.join(work, 'upper');
    await write(path.join(lower, 'etc/passwd'), 'root:x:0:0\n');
    await write(path.join(lower, 'etc/group'), 'root:x:0:\n');
    await write(path.join(lower, 'bin/sh'), '#!sh\n', 0o755);
    await write(path.join(lower, 'dir/a'), 'a');
    await write(path.join(lower, 'opq/x'), 'x');
    await write(path.join(lower, 'opq/y'), 'y');
    await write(path.join(lower, 'keep/k'), 'k');
    for (const d of ['etc', 'bin', 'dir', 'opq', 'keep']) await fs.utimes(path.join(lower, d), T, T);

    for (const d of ['etc', 'dir', 'opq', 'keep', 'bin']) await copyUp(path.join(lower, d), path.join(upper, d));
    await write(path.join(upper, 'etc/passwd'), 'root:x:0:0\nme:x:1000:1000\n');
    await write(path.join(upper, 'etc/hosts'), '');
    execFileSync('mknod', [path.join(upper, 'etc/group'), 'c', '0', '0']);
    await fs.cp(path.join(lower, 'bin/sh'), path.join(upper, 'bin/sh'), { preserveTimestamps: true });
    await write(path.join(upper, 'dir/c'), 'c');
    execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', path.join(upper, 'opq')]);
    await write(path.join(upper, 'opq/z'), 'z');
    await write(path.join(upper, 'new/f'), 'hard', 0o4755);
    await fs.link(path.join(upper, 'new/f'), path.join(upper, 'new/g'));
    await fs.symlink('../etc', path.join(upper, 'new/l'));
    execFileSync('mknod', ['-m', '0600', path.join(upper, 'new/p'), 'p']);
    await write(path.join(upper, 'new', LONG), 'long');
    execFileSync('setfattr', ['-n', 'user.k', '-v', 'v', path.join(upper, 'new/f')]);
    await fs.chown(path.join(upper, 'new/f'), 1234, 5678);
    await fs.chmod(path.join(upper, 'new/f'), 0o4755);
    await fs.utimes(path.join(upper, 'new/f'), T, T);
    for (const d of ['new', `new/${path.dirname(LONG)}`]) await fs.utimes(path.join(upper, d), T, T);
    for (const d of ['etc', 'dir', 'opq']) await fs.utimes(path.join(upper, d), T, T);
  });
  after(async () => {
    await fs.rm(work, { recursive: true, force: true });
  });

  test('the layer tar: whiteouts, opaque marker, links; stubs and dirs only copied up left out, copied-up files kept (as overlay2)', async () => {
    const tar = await collect(tarUpperDir(upper, [lower], realSys));
    const es = await entries(tar);
    assert.deepEqual(
      es.map((e) => `${e.h.type} ${e.h.name}${e.h.linkname ? ` -> ${e.h.linkname}` : ''}`),
      [
        'directory bin/',
        'file bin/sh',
        'directory dir/',
        'file dir/c',
        'directory etc/',
        'file etc/.wh.group',
        'file etc/passwd',
        'directory new/',
        'file new/f',
        'link new/g -> new/f',
        'symlink new/l -> ../etc',
        `directory new/${path.dirname(LONG)}/`,
        `file new/${LONG}`,
        'fifo new/p',
        'directory opq/',
        'file opq/.wh..wh..opq',
        'file opq/z',
      ],
    );
    const f = es.find((e) => e.h.name === 'new/f')!;
    assert.equal(f.body, 'hard');
    assert.equal(f.h.mode, 0o4755);
    assert.equal([f.h.uid, f.h.gid].join(':'), '1234:5678');
    assert.equal(f.h.mtime, T);
    assert.equal(f.h.xattrs.get('user.k')?.toString(), 'v');
    assert.equal(es.find((e) => e.h.name === `new/${LONG}`)!.body, 'long');
    assert.ok(!es.some((e) => [...e.h.xattrs.keys()].some((k) => k.startsWith('trusted.overlay.'))), 'overlay xattrs never travel');
    const again = await collect(tarUpperDir(upper, [lower], realSys));
    assert.ok(again.equals(tar), 'the same tree gives the same bytes');
  });

  test('the layer applies back into an overlay upper dir', async () => {
    const tar = await collect(tarUpperDir(upper, [lower], realSys));
    const dir = path.join(work, 'applied');
    const r = await applyLayer(dir, chunks(tar), { whiteouts: 'overlay' });
    assert.equal(r.diffId, `sha256:${createHash('sha256').update(tar).digest('hex')}`);
    const wh = await fs.lstat(path.join(dir, 'etc/group'));
    assert.ok(wh.isCharacterDevice() && wh.rdev === 0);
    assert.equal(realSys.lgetxattr(path.join(dir, 'opq'), 'trusted.overlay.opaque')?.toString(), 'y');
    assert.equal((await fs.stat(path.join(dir, 'new/g'))).ino, (await fs.stat(path.join(dir, 'new/f'))).ino);
    assert.equal(await fs.readlink(path.join(dir, 'new/l')), '../etc');
    assert.ok((await fs.lstat(path.join(dir, 'new/p'))).isFIFO());
    assert.equal(await fs.readFile(path.join(dir, 'etc/passwd'), 'utf8'), 'root:x:0:0\nme:x:1000:1000\n');
  });

  test('diff reports A, C and D as dockerd does', async () => {
    const ch = (await overlayChanges(upper, [lower], realSys)).map((c) => `${changeLetter(c.Kind)} ${c.Path}`);
    assert.deepEqual(ch, [
      'C /dir',
      'A /dir/c',
      'C /etc',
      'D /etc/group',
      'C /etc/passwd',
      'A /new',
      'A /new/f',
      'A /new/g',
      'A /new/l',
      `A /new/${path.dirname(LONG)}`,
      `A /new/${LONG}`,
      'A /new/p',
      'C /opq',
      'D /opq/x',
      'D /opq/y',
      'A /opq/z',
    ]);
  });

  test('an upper dir with only stubs and copied-up dirs is the empty layer', async () => {
    const u = path.join(work, 'upper-empty');
    await copyUp(path.join(lower, 'etc'), path.join(u, 'etc'));
    await write(path.join(u, 'etc/resolv.conf'), '');
    await fs.mkdir(path.join(u, 'proc'));
    await fs.utimes(path.join(u, 'etc'), T, T);
    const tar = await collect(tarUpperDir(u, [lower], realSys));
    assert.equal(`sha256:${createHash('sha256').update(tar).digest('hex')}`, EMPTY_LAYER_DIFF_ID);
    assert.deepEqual(await overlayChanges(u, [lower], realSys), []);
    const all = await overlayChanges(u, [], realSys);
    assert.deepEqual(all.map((c) => `${changeLetter(c.Kind)} ${c.Path}`), [], 'stubs are not changes even without a lower');
  });

  test('lower lookups across layers honour whiteouts, opaque dirs and non-directories', async () => {
    const l1 = path.join(work, 'l1');
    const l2 = path.join(work, 'l2');
    await write(path.join(l1, 'a/one'), '1');
    await write(path.join(l1, 'b/two'), '2');
    await write(path.join(l1, 'c/three'), '3');
    await write(path.join(l1, 'd/four'), '4');
    await fs.mkdir(path.join(l2, 'a'), { recursive: true });
    execFileSync('mknod', [path.join(l2, 'a/one'), 'c', '0', '0']);
    await write(path.join(l2, 'b/other'), 'o');
    execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', path.join(l2, 'b')]);
    await write(path.join(l2, 'c'), 'now a file');
    await fs.symlink('/etc', path.join(l2, 'd'));
    const v = new LowerView([l2, l1], realSys);
    assert.equal(await v.lookup('a/one'), undefined);
    assert.equal(await v.lookup('b/two'), undefined);
    assert.ok((await v.lookup('b/other'))?.isFile());
    assert.ok((await v.lookup('c'))?.isFile());
    assert.equal(await v.lookup('c/three'), undefined);
    assert.ok((await v.lookup('d'))?.isSymbolicLink());
    assert.equal(await v.lookup('d/passwd'), undefined, 'a symlink in a layer is never followed');
    assert.deepEqual((await v.children('b')).sort(), ['other']);
    assert.deepEqual((await v.children('a')).sort(), []);
  });

  test('a plain tree under a root name (docker cp of a directory)', async () => {
    const tar = await collect(tarTree(path.join(lower, 'etc'), { rootName: 'etc', fsr: realSys }));
    const es = await entries(tar);
    assert.deepEqual(es.map((e) => e.h.name), ['etc/', 'etc/group', 'etc/passwd']);
    assert.ok(tar.subarray(-1024).equals(TAR_END));
  });

  test('pax headers carry long link names, big ids and binary xattrs', async () => {
    const x = Buffer.from([0, 1, 2, 0xff, 0x0a]);
    const h = encodeTarHeader({ name: 'é/x', type: 'symlink', mode: 0o777, uid: 3_000_000, gid: 7, mtime: T, linkname: 'l'.repeat(150), xattrs: new Map([['security.capability', x]]) });
    const [e] = await entries(Buffer.concat([h, TAR_END]));
    assert.equal(e!.h.name, 'é/x');
    assert.equal(e!.h.linkname, 'l'.repeat(150));
    assert.equal(e!.h.uid, 3_000_000);
    assert.ok(e!.h.xattrs.get('security.capability')!.equals(x));
  });
});
