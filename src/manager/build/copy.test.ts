// COPY/ADD: source resolution and checksums (wildcards, directories, several sources, errors in
// dockerd's words) and staging into a root filesystem (destination rules, symlinks kept inside the
// rootfs, --chown from the rootfs's files, --chmod, ADD's archive extraction).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { DirSource } from './context';
import { extractInto, parseChmod, resolveChown, stageCopy } from './copy-into';
import { normalizeDest, resolveCopySources, sourcesHash, type CopyInfo } from './copy-sources';
import { pathMatch } from './path-match';

const isRoot = process.getuid?.() === 0;

function tree(files: Record<string, string>): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'build-copy-test-'));
  for (const [p, v] of Object.entries(files)) {
    const abs = path.join(d, p);
    if (p.endsWith('/')) fs.mkdirSync(abs, { recursive: true });
    else if (v.startsWith('->')) {
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      fs.symlinkSync(v.slice(2), abs);
    } else {
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      fs.writeFileSync(abs, v);
    }
  }
  return d;
}

const resolve = (src: DirSource, sources: string[], dest: string, cmdName: 'COPY' | 'ADD' = 'COPY') => resolveCopySources({ cmdName, sources, dest, source: src, fromImage: false });

test('filepath.Match semantics for wildcards', () => {
  assert.equal(pathMatch('*.txt', 'a.txt'), true);
  assert.equal(pathMatch('*.txt', 'd/a.txt'), false);
  assert.equal(pathMatch('d/*', 'd/a.txt'), true);
  assert.equal(pathMatch('a?c', 'abc'), true);
  assert.equal(pathMatch('[a-c]x', 'bx'), true);
  assert.equal(pathMatch('[^a-c]x', 'bx'), false);
  assert.equal(pathMatch('\\*', '*'), true);
  assert.throws(() => pathMatch('[', 'x'));
});

test('sources: single file, directory, wildcard, several; the checksums that enter the cache key', async () => {
  const d = tree({ 'a.txt': 'a', 'b.txt': 'b', 'c.md': 'c', 'dir/x': 'x', 'dir/y/z': 'z' });
  try {
    const src = new DirSource(d);
    const one = await resolve(src, ['a.txt'], '/x');
    assert.equal(one.length, 1);
    assert.match(one[0]!.hash, /^file:[0-9a-f]{64}$/);
    const dir = await resolve(src, ['./dir/'], '/x');
    assert.match(dir[0]!.hash, /^dir:[0-9a-f]{64}$/);
    const wild = await resolve(src, ['*.txt'], '/x/');
    assert.deepEqual(wild.map((i) => (i as { path: string }).path), ['a.txt', 'b.txt']);
    assert.match(sourcesHash(wild), /^multi:[0-9a-f]{64}$/);
    assert.equal(sourcesHash(one), one[0]!.hash);
    // The same content gives the same checksum; one changed byte does not.
    const d2 = tree({ 'a.txt': 'A' });
    try {
      assert.notEqual((await resolve(new DirSource(d2), ['a.txt'], '/x'))[0]!.hash, one[0]!.hash);
    } finally {
      fs.rmSync(d2, { recursive: true, force: true });
    }
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});

test('source errors in dockerd\'s words', async () => {
  const d = tree({ 'a.txt': 'a', 'b.txt': 'b' });
  try {
    const src = new DirSource(d);
    await assert.rejects(resolve(src, ['missing.txt'], '/x'), { message: 'COPY failed: file not found in build context or excluded by .dockerignore: stat missing.txt: file does not exist' });
    await assert.rejects(resolve(src, ['*.nomatch'], '/x/'), { message: 'COPY failed: no source files were specified' });
    await assert.rejects(resolve(src, ['a.txt', 'b.txt'], '/x'), { message: 'When using COPY with more than one source file, the destination must be a directory and end with a /' });
    await assert.rejects(resolve(src, ['../a.txt'], '/x'), { message: 'COPY failed: forbidden path outside the build context: ../a.txt ()' });
    await assert.rejects(resolve(src, ['http://127.0.0.1:1/x'], '/x'), { message: "COPY failed: source can't be a URL for COPY" });
    await assert.rejects(resolveCopySources({ cmdName: 'COPY', sources: ['nope'], dest: '/x', source: src, fromImage: true }), { message: 'COPY failed: stat nope: file does not exist' });
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});

test('destination normalisation against WORKDIR keeps a trailing slash', () => {
  assert.equal(normalizeDest('', 'app'), '/app');
  assert.equal(normalizeDest('/w', 'app/'), '/w/app/');
  assert.equal(normalizeDest('/w', '/abs'), '/abs');
  assert.equal(normalizeDest('/w', '.'), '/w');
});

async function copy(src: string, sources: string[], rootfs: string, dest: string, extra: Partial<Parameters<typeof stageCopy>[0]> = {}): Promise<void> {
  const infos: CopyInfo[] = await resolve(new DirSource(src), sources, dest, extra.decompress ? 'ADD' : 'COPY');
  await stageCopy({ rootfs, dest, infos, decompress: false, identity: { uid: 0, gid: 0 }, ...extra });
}

test('staging: a file as the destination, into a directory, into dest/; directory contents merged', async () => {
  const src = tree({ 'f.txt': 'file', 'dir/a': 'a', 'dir/sub/b': 'b', 'dir/ln': '->a' });
  const root = tree({ 'existing/': '', 'merge/keep': 'k' });
  try {
    await copy(src, ['f.txt'], root, '/newfile');
    assert.equal(fs.readFileSync(path.join(root, 'newfile'), 'utf8'), 'file');
    await copy(src, ['f.txt'], root, '/existing');
    assert.equal(fs.readFileSync(path.join(root, 'existing/f.txt'), 'utf8'), 'file');
    await copy(src, ['f.txt'], root, '/made/by/copy/');
    assert.equal(fs.readFileSync(path.join(root, 'made/by/copy/f.txt'), 'utf8'), 'file');
    assert.equal(fs.statSync(path.join(root, 'made/by')).mode & 0o777, 0o755);
    await copy(src, ['dir'], root, '/merge');
    assert.deepEqual(fs.readdirSync(path.join(root, 'merge')).sort(), ['a', 'keep', 'ln', 'sub']);
    assert.equal(fs.readlinkSync(path.join(root, 'merge/ln')), 'a');
    assert.equal(fs.readFileSync(path.join(root, 'merge/sub/b'), 'utf8'), 'b');
    // mode and mtime of the source are kept
    fs.chmodSync(path.join(src, 'f.txt'), 0o751);
    fs.utimesSync(path.join(src, 'f.txt'), 1000, 1000);
    await copy(src, ['f.txt'], root, '/kept');
    assert.equal(fs.statSync(path.join(root, 'kept')).mode & 0o7777, 0o751);
    assert.equal(fs.statSync(path.join(root, 'kept')).mtimeMs, 1_000_000);
  } finally {
    fs.rmSync(src, { recursive: true, force: true });
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('staging never leaves the rootfs: an image symlink to /etc resolves inside it', async () => {
  const src = tree({ 'f.txt': 'inside' });
  const root = tree({ 'link': '->/etc', 'etc/': '', 'rel': '->../../../../tmp' });
  try {
    await copy(src, ['f.txt'], root, '/link/f.txt');
    assert.equal(fs.readFileSync(path.join(root, 'etc/f.txt'), 'utf8'), 'inside');
    assert.equal(fs.existsSync('/etc/f.txt'), false);
    await copy(src, ['f.txt'], root, '/rel/');
    assert.equal(fs.readFileSync(path.join(root, 'tmp/f.txt'), 'utf8'), 'inside');
  } finally {
    fs.rmSync(src, { recursive: true, force: true });
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('--chmod, and --chown resolved from the rootfs (numbers, names, user alone = group of that name)', async () => {
  const root = tree({ 'etc/passwd': 'root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n', 'etc/group': 'root:x:0:\napp:x:1000:\nstaff:x:50:\n' });
  const src = tree({ 'f': 'x', 'd/g': 'y' });
  try {
    assert.deepEqual(await resolveChown('app', root), { uid: 1000, gid: 1000 });
    assert.deepEqual(await resolveChown('app:staff', root), { uid: 1000, gid: 50 });
    assert.deepEqual(await resolveChown('12:34', root), { uid: 12, gid: 34 });
    await assert.rejects(resolveChown('nobody', root), { message: "unable to convert uid/gid chown string to host mapping: can't find uid for user nobody: no such user: nobody" });
    await assert.rejects(resolveChown('app:nogroup', root), { message: "unable to convert uid/gid chown string to host mapping: can't find gid for group nogroup: no such group: nogroup" });
    assert.equal(parseChmod('755'), 0o755);
    assert.throws(() => parseChmod('u+x'), { message: 'invalid chmod parameter u+x' });
    await copy(src, ['f', 'd'], root, '/out/', { identity: { uid: 1000, gid: 50 }, chmod: 0o700 });
    assert.equal(fs.statSync(path.join(root, 'out/f')).mode & 0o7777, 0o700);
    assert.equal(fs.statSync(path.join(root, 'out/g')).mode & 0o7777, 0o700);
    if (isRoot) {
      assert.equal(fs.statSync(path.join(root, 'out/f')).uid, 1000);
      assert.equal(fs.statSync(path.join(root, 'out/f')).gid, 50);
      assert.equal(fs.statSync(path.join(root, 'out')).uid, 1000, 'parents a file copy creates get the owner');
    }
  } finally {
    fs.rmSync(src, { recursive: true, force: true });
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('ADD extracts local archives (recognised by content, any compression); COPY does not', async () => {
  const payload = tree({ 'inner/t.txt': 'in tar' });
  const src = fs.mkdtempSync(path.join(os.tmpdir(), 'build-copy-test-'));
  const root = tree({});
  try {
    execFileSync('tar', ['-C', payload, '-cf', path.join(src, 'plain.tar'), 'inner']);
    execFileSync('sh', ['-c', `gzip -c ${src}/plain.tar > ${src}/noext && xz -c ${src}/plain.tar > ${src}/a.tar.xz`]);
    await copy(src, ['noext'], root, '/added/', { decompress: true });
    assert.equal(fs.readFileSync(path.join(root, 'added/inner/t.txt'), 'utf8'), 'in tar');
    await copy(src, ['a.tar.xz'], root, '/xz', { decompress: true });
    assert.equal(fs.readFileSync(path.join(root, 'xz/inner/t.txt'), 'utf8'), 'in tar');
    await copy(src, ['plain.tar'], root, '/copied.tar');
    assert.ok(fs.statSync(path.join(root, 'copied.tar')).isFile());
  } finally {
    for (const d of [payload, src, root]) fs.rmSync(d, { recursive: true, force: true });
  }
});

test('ADD refuses archive entries that climb out or are absolute', async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'build-copy-test-'));
  const root = tree({});
  try {
    fs.mkdirSync(path.join(work, 'x'));
    fs.writeFileSync(path.join(work, 'x/evil'), 'evil');
    execFileSync('tar', ['-C', path.join(work, 'x'), '--transform', 's,^,../../,', '-P', '-cf', path.join(work, 'up.tar'), 'evil']);
    await assert.rejects(extractInto(path.join(work, 'up.tar'), root, 'dst'), { message: /"\.\.\/\.\.\/evil" is outside of the destination/ });
    execFileSync('tar', ['-C', path.join(work, 'x'), '--transform', 's,^,/tmp/,', '-P', '-cf', path.join(work, 'abs.tar'), 'evil']);
    await assert.rejects(extractInto(path.join(work, 'abs.tar'), root, 'dst'), { message: /"\/tmp\/evil" is outside of the destination/ });
    assert.equal(fs.existsSync(path.join(root, 'evil')), false);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('hard links inside a copied directory stay hard links; 300 files copy in parallel intact', async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 300; i++) files[`many/d${i % 7}/f${i}`] = `content ${i}\n`;
  const src = tree(files);
  const root = tree({});
  try {
    fs.writeFileSync(path.join(src, 'many/orig'), 'linked');
    fs.linkSync(path.join(src, 'many/orig'), path.join(src, 'many/d0/link'));
    await copy(src, ['many'], root, '/m');
    assert.equal(fs.statSync(path.join(root, 'm/orig')).ino, fs.statSync(path.join(root, 'm/d0/link')).ino);
    for (let i = 0; i < 300; i++) assert.equal(fs.readFileSync(path.join(root, `m/d${i % 7}/f${i}`), 'utf8'), `content ${i}\n`);
  } finally {
    fs.rmSync(src, { recursive: true, force: true });
    fs.rmSync(root, { recursive: true, force: true });
  }
});
