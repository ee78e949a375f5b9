// Build contexts: tar extraction (checksums equal to dockerd's, hostile entries refused or contained,
// compression), .dockerignore semantics, and the client-side context tar (the -f outside case).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { pack } from 'tar-stream';
import { extractContext } from './context-extract';
import { makeContextTar } from './context-tar';
import { resolveCopySources } from './copy-sources';
import { findIgnoreFile, keepBuildFiles, makeMatcher, readIgnorePatterns } from './dockerignore';
import { readTar } from '../snapshots/tar-reader';

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'build-ctx-test-'));
}

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

type Entry = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'fifo'; data?: string; mode?: number; linkname?: string; mtime?: number };

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const p = pack();
  for (const e of entries) {
    const h = { name: e.name, type: e.type ?? 'file', mode: e.mode ?? (e.type === 'directory' ? 0o755 : 0o644), uid: 0, gid: 0, mtime: new Date(e.mtime ?? 1_600_000_000_000), ...(e.linkname ? { linkname: e.linkname } : {}), ...(e.type === 'character-device' ? { devmajor: 1, devminor: 3 } : {}) };
    if (e.data !== undefined) p.entry({ ...h, size: Buffer.byteLength(e.data) }, e.data);
    else p.entry(h);
  }
  p.finalize();
  const parts: Buffer[] = [];
  for await (const c of p) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

test('context checksums are dockerd\'s (tarsum v1 of the header and data, no mtime)', async () => {
  const d = tmp();
  try {
    // The same tree as the reference run: a.txt "hello\n" (0644), dir/ dir/sub/ (0755), dir/sub/f "x\n".
    const tar = await tarOf([{ name: 'a.txt', data: 'hello\n' }, { name: 'dir/', type: 'directory' }, { name: 'dir/sub/', type: 'directory' }, { name: 'dir/sub/f', data: 'x\n' }]);
    const { source } = await extractContext(once(tar), path.join(d, 'ctx'));
    assert.equal(await source.hash('a.txt'), '00ec16333078d287782d462baefc8bb9eb0231dc3aefba3ca3e2f7e5cf0cadda');
    const [file] = await resolveCopySources({ cmdName: 'COPY', sources: ['a.txt'], dest: '/a.txt', source, fromImage: false });
    assert.equal(file!.hash, 'file:00ec16333078d287782d462baefc8bb9eb0231dc3aefba3ca3e2f7e5cf0cadda');
    const [dir] = await resolveCopySources({ cmdName: 'COPY', sources: ['dir'], dest: '/d/', source, fromImage: false });
    assert.equal(dir!.hash, 'dir:cb1f76532748ed0a412bf0602ae859daf1120b3a4101b8cee7b85d78d2bd7384');
    // mtime does not count; mode does.
    const touched = await tarOf([{ name: 'a.txt', data: 'hello\n', mtime: 1_700_000_000_000 }]);
    const chmodded = await tarOf([{ name: 'a.txt', data: 'hello\n', mode: 0o600 }]);
    const t = await extractContext(once(touched), path.join(d, 'ctx2'));
    const c = await extractContext(once(chmodded), path.join(d, 'ctx3'));
    assert.equal(await t.source.hash('a.txt'), await source.hash('a.txt'));
    assert.notEqual(await c.source.hash('a.txt'), await source.hash('a.txt'));
    await source.directory();
    assert.equal(fs.readFileSync(path.join(d, 'ctx/dir/sub/f'), 'utf8'), 'x\n');
    assert.equal(fs.statSync(path.join(d, 'ctx/a.txt')).mtimeMs, 1_600_000_000_000);
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});

test('hostile context entries: ".." refused, absolute kept inside, links never followed out', async () => {
  const d = tmp();
  try {
    await assert.rejects(extractContext(once(await tarOf([{ name: '../escape', data: 'x' }])), path.join(d, 'a')), { message: /"\.\.\/escape" is outside of the build context/ });
    assert.equal(fs.existsSync(path.join(d, 'escape')), false);
    const { source, skipped } = await extractContext(
      once(
        await tarOf([
          { name: '/abs.txt', data: 'abs' },
          { name: 'out', type: 'symlink', linkname: '/etc' },
          { name: 'out/passwd', data: 'not the host' },
          { name: 'up', type: 'symlink', linkname: '../../../../' },
          { name: 'null', type: 'character-device' },
          { name: 'pipe', type: 'fifo' },
        ]),
      ),
      path.join(d, 'b'),
    );
    await source.directory();
    assert.equal(fs.readFileSync(path.join(d, 'b/abs.txt'), 'utf8'), 'abs');
    assert.equal(fs.readlinkSync(path.join(d, 'b/out')), '/etc');
    // "out/passwd" went through the link resolved inside the context: <ctx>/etc/passwd.
    assert.equal(fs.readFileSync(path.join(d, 'b/etc/passwd'), 'utf8'), 'not the host');
    assert.notEqual(fs.readFileSync('/etc/passwd', 'utf8'), 'not the host');
    assert.deepEqual(skipped.sort(), ['null', 'pipe']);
    assert.equal(await source.resolve('up/etc/hostname'), 'etc/hostname');
    await assert.rejects(resolveCopySources({ cmdName: 'COPY', sources: ['up/etc/hostname'], dest: '/x', source, fromImage: false }), { message: 'COPY failed: file not found in build context or excluded by .dockerignore: stat up/etc/hostname: file does not exist' });
    await assert.rejects(extractContext(once(await tarOf([{ name: 'h', type: 'link', linkname: '../../etc/passwd' }])), path.join(d, 'c')), { message: /outside of the build context/ });
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});

test('compressed contexts: gzip, bzip2, xz', async () => {
  const d = tmp();
  try {
    const tar = await tarOf([{ name: 'f', data: 'compressed\n' }]);
    for (const [cmd, args] of [['gzip', ['-c']], ['bzip2', ['-c']], ['xz', ['-c']]] as const) {
      const z = execFileSync(cmd, [...args], { input: tar });
      const { source } = await extractContext(once(z), path.join(d, cmd));
      assert.equal(fs.readFileSync(path.join(await source.directory(), 'f'), 'utf8'), 'compressed\n', cmd);
    }
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});

test('.dockerignore: reading and Docker\'s matching', () => {
  const p = readIgnorePatterns('\uFEFF# comment\n/README.md\n  *.log  \n!keep.log\ndocs/**\n**/*.tmp\nsub/*/x\n');
  assert.deepEqual(p, ['README.md', '*.log', '!keep.log', 'docs/**', '**/*.tmp', 'sub/*/x']);
  const m = makeMatcher(p);
  assert.equal(m('README.md'), true);
  assert.equal(m('a.log'), true);
  assert.equal(m('dir/a.log'), false, '* does not cross /');
  assert.equal(m('keep.log'), false, 'the last matching line wins');
  assert.equal(m('docs/a/b'), true);
  assert.equal(m('x.tmp'), true);
  assert.equal(m('a/b/x.tmp'), true);
  assert.equal(m('sub/q/x'), true);
  assert.equal(m('sub/q/r/x'), false);
  assert.equal(m('Readme.md'), false, 'case-sensitive');
  assert.equal(makeMatcher(['logs'])('logs/keep/important.log'), true, 'a directory pattern covers what is below');
  assert.equal(makeMatcher(['logs', '!logs/keep'])('logs/keep/important.log'), false);
  assert.throws(() => readIgnorePatterns('!\n'), { message: 'illegal exclusion pattern: "!"' });
  assert.deepEqual(keepBuildFiles(['*', 'Dockerfile'], 'Dockerfile'), ['*', 'Dockerfile', '!.dockerignore', '!Dockerfile']);
});

test('<Dockerfile>.dockerignore beside the Dockerfile wins over .dockerignore', async () => {
  const d = tmp();
  try {
    fs.mkdirSync(path.join(d, 'sub'));
    fs.writeFileSync(path.join(d, '.dockerignore'), 'a\n');
    assert.equal(await findIgnoreFile(d, 'sub/app.Dockerfile'), path.join(d, '.dockerignore'));
    fs.writeFileSync(path.join(d, 'sub/app.Dockerfile.dockerignore'), 'b\n');
    assert.equal(await findIgnoreFile(d, 'sub/app.Dockerfile'), path.join(d, 'sub/app.Dockerfile.dockerignore'));
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});

async function entries(stream: AsyncIterable<Buffer>): Promise<Map<string, { mode: number; uid: number; type: string; data: string }>> {
  const out = new Map<string, { mode: number; uid: number; type: string; data: string }>();
  for await (const { header, body } of readTar(stream)) {
    const parts: Buffer[] = [];
    for await (const c of body) parts.push(c);
    out.set(header.name, { mode: header.mode, uid: header.uid, type: header.type, data: Buffer.concat(parts).toString() });
  }
  return out;
}

test('context tar as the docker CLI sends it: ignore rules, build files kept, owners 0', async () => {
  const d = tmp();
  try {
    fs.writeFileSync(path.join(d, 'Dockerfile'), 'FROM x\n');
    fs.writeFileSync(path.join(d, '.dockerignore'), '*\n!app\n');
    fs.mkdirSync(path.join(d, 'app'));
    fs.writeFileSync(path.join(d, 'app/main.js'), 'js');
    fs.writeFileSync(path.join(d, 'secret'), 's');
    fs.symlinkSync('/etc/passwd', path.join(d, 'app/link'));
    const t = await makeContextTar(d);
    assert.equal(t.dockerfile, 'Dockerfile');
    const e = await entries(t.stream);
    assert.deepEqual([...e.keys()].sort(), ['.dockerignore', 'Dockerfile', 'app/', 'app/link', 'app/main.js']);
    assert.equal(e.get('app/link')!.type, 'symlink');
    assert.ok([...e.values()].every((x) => x.uid === 0));
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});

test('a Dockerfile outside the context travels as .dockerfile.<20 hex>, named in .dockerignore', async () => {
  const d = tmp();
  try {
    fs.mkdirSync(path.join(d, 'ctx'));
    fs.writeFileSync(path.join(d, 'ctx/f'), 'x');
    fs.writeFileSync(path.join(d, 'outside.Dockerfile'), 'FROM busybox\n');
    const t = await makeContextTar(path.join(d, 'ctx'), { dockerfilePath: path.join(d, 'outside.Dockerfile') });
    assert.match(t.dockerfile, /^\.dockerfile\.[0-9a-f]{20}$/);
    const e = await entries(t.stream);
    assert.equal(e.get(t.dockerfile)!.data, 'FROM busybox\n');
    assert.equal(e.get(t.dockerfile)!.mode, 0o600);
    assert.equal(e.get('.dockerignore')!.data, `.dockerignore\n${t.dockerfile}\n`);
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});

test('hard links in a context are links; the index answers walk, lstat and hash', async () => {
  const d = tmp();
  try {
    const { source } = await extractContext(once(await tarOf([{ name: 'dir/', type: 'directory' }, { name: 'dir/a', data: 'x' }, { name: 'dir/b', type: 'link', linkname: 'dir/a' }, { name: 'ln', type: 'symlink', linkname: 'dir/a' }])), path.join(d, 'ctx'));
    await source.directory();
    assert.equal(fs.statSync(path.join(d, 'ctx/dir/b')).ino, fs.statSync(path.join(d, 'ctx/dir/a')).ino);
    const walked: string[] = [];
    for await (const e of source.walk('')) walked.push(`${e.path}:${e.type}`);
    assert.deepEqual(walked, [':directory', 'dir:directory', 'dir/a:file', 'dir/b:link', 'ln:symlink']);
    assert.equal(await source.hash('ln'), await source.hash('dir/a'), 'a symlink hashes as what it points to');
    assert.equal((await source.lstat('ln'))?.linkname, 'dir/a');
    await source.remove('dir');
    assert.equal(await source.lstat('dir/a'), undefined);
    assert.equal(fs.existsSync(path.join(d, 'ctx/dir')), false);
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});

/** Every entry under dir: path, type, mode, mtime, link target or data. */
function treeOf(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const n of fs.readdirSync(path.join(dir, rel)).sort()) {
      const r = rel === '' ? n : `${rel}/${n}`;
      const st = fs.lstatSync(path.join(dir, r));
      const what = st.isSymbolicLink() ? `-> ${fs.readlinkSync(path.join(dir, r))}` : st.isDirectory() ? 'dir' : fs.readFileSync(path.join(dir, r), 'utf8');
      out.push(`${r} ${(st.mode & 0o7777).toString(8)} ${st.isSymbolicLink() ? '' : st.mtimeMs} nlink=${st.isDirectory() ? '' : st.nlink} ${what}`);
      if (st.isDirectory()) walk(r);
    }
  };
  walk('');
  return out;
}

test('a context stays in memory until a step needs its files; past the memory limit it goes to disk during the read, the same tree', async () => {
  const d = tmp();
  try {
    const big = 'b'.repeat(3000);
    const tar = await tarOf([
      { name: 'Dockerfile', data: 'FROM busybox\n' },
      { name: 'dir/', type: 'directory', mode: 0o750 },
      { name: 'dir/a', data: 'a\n', mode: 0o600 },
      { name: 'dir/big', data: big },
      { name: 'dir/h', type: 'link', linkname: 'dir/a' },
      { name: 'ln', type: 'symlink', linkname: 'dir/a' },
      { name: 'empty', data: '' },
      { name: 'dir/a', data: 'replaced\n' },
    ]);
    const mem = await extractContext(once(tar), path.join(d, 'mem'));
    assert.equal(fs.existsSync(path.join(d, 'mem')), false, 'nothing on disk before directory()');
    assert.equal((await mem.source.readFile('Dockerfile')).toString(), 'FROM busybox\n');
    assert.equal((await mem.source.readFile('ln')).toString(), 'replaced\n', 'a symlink reads as its target');
    assert.equal((await mem.source.readFile('empty')).length, 0);
    assert.equal((await mem.source.readFile('dir/h')).toString(), 'a\n');
    await mem.source.remove('Dockerfile');
    assert.equal(await mem.source.lstat('Dockerfile'), undefined);
    const disk = await extractContext(once(tar), path.join(d, 'disk'), 1000);
    assert.equal(fs.existsSync(path.join(d, 'disk/dir/big')), true, 'over the limit: on disk when the read ends');
    assert.equal((await disk.source.readFile('dir/big')).toString(), big);
    await disk.source.remove('Dockerfile');
    const [a, b] = await Promise.all([mem.source.directory(), mem.source.directory()]);
    assert.equal(a, b);
    assert.deepEqual(treeOf(a), treeOf(await disk.source.directory()));
    assert.equal(fs.statSync(path.join(a, 'dir')).mode & 0o777, 0o750);
    assert.equal(fs.readFileSync(path.join(a, 'dir/h'), 'utf8'), 'a\n', 'the link keeps the file it was made to, not its replacement');
    assert.equal((await mem.source.readFile('dir/big')).toString(), big, 'read from disk once written out');
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});
