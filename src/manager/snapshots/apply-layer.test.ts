// Layer extraction: file types, ownership, modes, xattrs, whiteouts for overlayfs, compression
// detection with diff IDs, and hostile tars that try to write outside the target.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { pack, type Header } from 'tar-stream';
import { kindOf } from '../../errors/index';
import { applyLayer } from './apply-layer';

const isRoot = process.getuid?.() === 0;
let work: string;
before(async () => {
  work = await fs.mkdtemp(path.join(tmpdir(), 'dock-apply-'));
});
after(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

type E = Partial<Header> & { name: string; body?: string };

async function makeTar(entries: E[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c) => void chunks.push(c as Buffer));
  const done = new Promise<void>((r) => p.on('end', () => r()));
  for (const e of entries) {
    const { body, ...h } = e;
    await new Promise<void>((resolve, reject) => p.entry({ mtime: new Date(1_000_000_000_000), ...h } as Header, body ?? '', (err) => (err ? reject(err) : resolve())));
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  for (let i = 0; i < b.length; i += 7000) yield b.subarray(i, i + 7000);
}

let n = 0;
const target = () => path.join(work, `t${n++}`);

test('apply: files, dirs, symlinks, hardlinks, fifo, modes, ownership, mtimes, xattrs', async () => {
  const tar = await makeTar([
    { name: 'etc/', type: 'directory', mode: 0o755 },
    { name: 'etc/passwd', body: 'root:x:0:0::/root:/bin/sh\n', mode: 0o644 },
    { name: 'bin/tool', body: '#!/bin/sh\n', mode: 0o4755, uid: 1234, gid: 5678, pax: { 'SCHILY.xattr.user.dock': 'hello', 'SCHILY.xattr.trusted.overlay.opaque': 'y' } },
    { name: 'bin/link', type: 'link', linkname: 'bin/tool' },
    { name: 'bin/sym', type: 'symlink', linkname: '/etc/passwd' },
    { name: 'run/fifo', type: 'fifo', mode: 0o600 },
    { name: 'deep/a/b/c/file', body: 'x' },
  ]);
  const dir = target();
  const r = await applyLayer(dir, once(tar), { whiteouts: 'overlay' });
  assert.equal(r.diffId, `sha256:${createHash('sha256').update(tar).digest('hex')}`);
  assert.equal(r.entries, 7);
  assert.equal(await fs.readFile(path.join(dir, 'etc/passwd'), 'utf8'), 'root:x:0:0::/root:/bin/sh\n');
  const tool = await fs.stat(path.join(dir, 'bin/tool'));
  assert.equal(tool.mode & 0o7777, 0o4755);
  assert.equal(tool.nlink, 2);
  assert.equal((await fs.stat(path.join(dir, 'bin/link'))).ino, tool.ino);
  assert.equal(tool.mtimeMs, 1_000_000_000_000);
  assert.equal(await fs.readlink(path.join(dir, 'bin/sym')), '/etc/passwd');
  assert.ok((await fs.lstat(path.join(dir, 'run/fifo'))).isFIFO());
  assert.equal(await fs.readFile(path.join(dir, 'deep/a/b/c/file'), 'utf8'), 'x');
  assert.equal((await fs.stat(path.join(dir, 'etc'))).mtimeMs, 1_000_000_000_000);
  assert.equal(execFileSync('getfattr', ['--only-values', '-n', 'user.dock', path.join(dir, 'bin/tool')]).toString(), 'hello');
  if (isRoot) {
    assert.equal(tool.uid, 1234);
    assert.equal(tool.gid, 5678);
    assert.throws(() => execFileSync('getfattr', ['-n', 'trusted.overlay.opaque', path.join(dir, 'bin/tool')], { stdio: 'pipe' }));
  }
});

test('apply: gzip, zstd and plain tar give the same tree and diff ID', async () => {
  const tar = await makeTar([{ name: 'a/b', body: 'same' }]);
  const zst = execFileSync('zstd', ['-c', '-q'], { input: tar });
  const ids = new Set<string>();
  for (const blob of [tar, gzipSync(tar), zst]) {
    const dir = target();
    ids.add((await applyLayer(dir, once(blob))).diffId);
    assert.equal(await fs.readFile(path.join(dir, 'a/b'), 'utf8'), 'same');
  }
  assert.equal(ids.size, 1);
  await assert.rejects(applyLayer(target(), once(gzipSync(tar).subarray(0, 30))), /unexpected end|incorrect header|unexpected end of file/);
});

test('apply: whiteouts become overlay whiteouts; opaque dirs get trusted.overlay.opaque', { skip: !isRoot && 'needs root for mknod and trusted.* xattrs' }, async () => {
  const tar = await makeTar([
    { name: 'etc/', type: 'directory' },
    { name: 'etc/.wh.gone', body: '' },
    { name: 'opq/', type: 'directory' },
    { name: 'opq/.wh..wh..opq', body: '' },
    { name: 'opq/kept', body: 'k' },
  ]);
  const dir = target();
  await applyLayer(dir, once(tar), { whiteouts: 'overlay' });
  const wh = await fs.lstat(path.join(dir, 'etc/gone'));
  assert.ok(wh.isCharacterDevice());
  assert.equal(wh.rdev, 0);
  assert.equal(execFileSync('getfattr', ['--only-values', '-n', 'trusted.overlay.opaque', path.join(dir, 'opq')]).toString(), 'y');
  await assert.rejects(fs.lstat(path.join(dir, 'etc/.wh.gone')));
  // Deletion mode applies the same layer onto a full tree.
  const full = target();
  await fs.mkdir(path.join(full, 'etc'), { recursive: true });
  await fs.mkdir(path.join(full, 'opq'), { recursive: true });
  await fs.writeFile(path.join(full, 'etc/gone'), 'x');
  await fs.writeFile(path.join(full, 'etc/stays'), 'x');
  await fs.writeFile(path.join(full, 'opq/old'), 'x');
  await applyLayer(full, once(tar), { whiteouts: 'delete' });
  assert.deepEqual((await fs.readdir(path.join(full, 'etc'))).sort(), ['stays']);
  assert.deepEqual(await fs.readdir(path.join(full, 'opq')), ['kept']);
});

test('apply: device nodes are created, skipped or refused as asked', { skip: !isRoot && 'needs root for mknod' }, async () => {
  const tar = await makeTar([{ name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 }]);
  const a = target();
  await applyLayer(a, once(tar), { devices: 'create' });
  const st = await fs.lstat(path.join(a, 'dev/null'));
  assert.ok(st.isCharacterDevice());
  assert.equal(st.rdev, (1 << 8) | 3);
  const b = target();
  await applyLayer(b, once(tar), { devices: 'skip' });
  await assert.rejects(fs.lstat(path.join(b, 'dev/null')));
  await assert.rejects(applyLayer(target(), once(tar), { devices: 'reject' }), (e) => kindOf(e) === 'PermissionDenied');
});

test('apply: hostile tars cannot write outside the target', async () => {
  const outside = path.join(work, 'outside');
  await fs.mkdir(outside, { recursive: true });
  await fs.writeFile(path.join(outside, 'secret'), 'keep');
  const cases: [string, E[]][] = [
    ['dot-dot', [{ name: '../escape', body: 'x' }]],
    ['nested dot-dot', [{ name: 'a/../../escape', body: 'x' }]],
    ['absolute', [{ name: '/etc/escape', body: 'x' }]],
    ['symlink dir then file through it', [{ name: 'evil', type: 'symlink', linkname: outside }, { name: 'evil/secret', body: 'pwned' }]],
    ['relative symlink escape', [{ name: 'a/', type: 'directory' }, { name: 'a/up', type: 'symlink', linkname: '../../..' }, { name: 'a/up/tmp/pwned', body: 'x' }]],
    ['hardlink outside', [{ name: 'h', type: 'link', linkname: '../outside/secret' }]],
    ['hardlink absolute', [{ name: 'h', type: 'link', linkname: '/etc/passwd' }]],
    ['hardlink through symlink', [{ name: 'evil', type: 'symlink', linkname: outside }, { name: 'h', type: 'link', linkname: 'evil/secret' }]],
    ['whiteout through symlink', [{ name: 'evil', type: 'symlink', linkname: outside }, { name: 'evil/.wh.secret', body: '' }]],
    ['bad whiteout name', [{ name: 'a/.wh...', body: '' }]],
  ];
  for (const [label, entries] of cases) {
    const dir = target();
    await assert.rejects(applyLayer(dir, once(await makeTar(entries))), (e) => kindOf(e) === 'InvalidArgument', label);
    assert.equal(await fs.readFile(path.join(outside, 'secret'), 'utf8'), 'keep', label);
    assert.deepEqual((await fs.readdir(outside)).sort(), ['secret'], label);
  }
  // A symlink replaced by a file is replaced, not written through.
  const dir = target();
  await applyLayer(dir, once(await makeTar([{ name: 'f', type: 'symlink', linkname: path.join(outside, 'secret') }, { name: 'f', body: 'mine' }])));
  assert.equal(await fs.readFile(path.join(dir, 'f'), 'utf8'), 'mine');
  assert.equal(await fs.readFile(path.join(outside, 'secret'), 'utf8'), 'keep');
});
