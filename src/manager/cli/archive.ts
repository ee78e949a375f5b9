// The host side of `cp`, after moby's go-archive copy.go: the path rules (trailing "/" and "/."),
// TarResource (a tar of one file or tree, entries named from its base, hard links kept), entry
// rebasing, and Untar with NoOverwriteDirNonDir and no chown; plus the container path stat header.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import type * as TarStream from 'tar-stream';
import type { Header } from 'tar-stream';

// tar-stream (and the streamx it pulls in) is loaded by the first copy, not by every CLI start.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const tar = (): typeof TarStream => require('tar-stream') as typeof TarStream;

type Headers = Partial<Header> & { name: string };

/** Go os.FileMode bits as the X-Docker-Container-Path-Stat header carries them. */
export const MODE_DIR = 2 ** 31;
export const MODE_SYMLINK = 2 ** 27;
export const MODE_DEVICE = 2 ** 26;
export const MODE_IRREGULAR = 2 ** 19;

export type PathStat = { name: string; size: number; mode: number; mtime: string; linkTarget: string };

export function decodePathStat(h: string | string[] | undefined): PathStat {
  if (typeof h !== 'string' || h === '') throw new Error('unable to get resource stat from response: unable to decode container path stat header: EOF');
  try {
    return JSON.parse(Buffer.from(h, 'base64').toString()) as PathStat;
  } catch (e) {
    throw new Error(`unable to get resource stat from response: unable to decode container path stat header: ${(e as Error).message}`);
  }
}

export const isDirMode = (m: number) => Math.floor(m / MODE_DIR) % 2 === 1;
export const isSymlinkMode = (m: number) => Math.floor(m / MODE_SYMLINK) % 2 === 1;

const hasTrailingSep = (p: string) => p.length > 0 && p.endsWith('/');
const specifiesCurrentDir = (p: string) => path.basename(p) === '.' || p === '.' || p.endsWith('/.');

export function preserveTrailingDotOrSeparator(cleaned: string, original: string): string {
  let c = cleaned;
  if (!specifiesCurrentDir(c) && specifiesCurrentDir(original)) {
    if (!hasTrailingSep(c)) c += '/';
    c += '.';
  }
  if (!hasTrailingSep(c) && hasTrailingSep(original)) c += '/';
  return c;
}

/** filepath.Abs + PreserveTrailingDotOrSeparator. */
export function resolveLocalPath(p: string): string {
  return preserveTrailingDotOrSeparator(path.resolve(p), p);
}

/** archive.SplitPathDirEntry. */
export function splitPathDirEntry(p: string): [string, string] {
  let cleaned = path.normalize(p);
  if (cleaned.length > 1) cleaned = cleaned.replace(/\/+$/, '');
  if (specifiesCurrentDir(p)) cleaned += '/.';
  return [path.dirname(cleaned), path.basename(cleaned) || '/'];
}

export function getRebaseName(p: string, resolved: string): [string, string] {
  let r = resolved;
  if (specifiesCurrentDir(p) && !specifiesCurrentDir(r)) r += '/.';
  if (hasTrailingSep(p) && !hasTrailingSep(r)) r += '/';
  const rebase = path.basename(p) !== path.basename(r) ? path.basename(p) : '';
  return [r, rebase];
}

export type CopyInfo = { path: string; exists: boolean; isDir: boolean; rebaseName: string };

/** archive.CopyInfoSourcePath (ResolveHostSourcePath + Lstat). */
export function copyInfoSourcePath(p: string, followLink: boolean): CopyInfo {
  let resolved: string;
  let rebase = '';
  if (followLink) {
    [resolved, rebase] = getRebaseName(p, fs.realpathSync(p));
  } else {
    const dir = p.endsWith('/') ? p : path.dirname(p) + '/';
    const base = p.endsWith('/') ? '' : path.basename(p);
    const rdir = fs.realpathSync(dir === '' ? '.' : dir);
    resolved = rdir + '/' + base;
    if (hasTrailingSep(p) && path.basename(p) !== path.basename(resolved)) rebase = path.basename(p);
  }
  const st = fs.lstatSync(resolved);
  return { path: resolved, exists: true, isDir: st.isDirectory(), rebaseName: rebase };
}

/** archive.CopyInfoDestinationPath (follows up to 10 symlinks). */
export function copyInfoDestinationPath(p0: string): CopyInfo {
  let p = p0;
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(p);
  } catch {
    st = undefined;
  }
  if (st && !st.isSymbolicLink()) return { path: p, exists: true, isDir: st.isDirectory(), rebaseName: '' };
  for (let n = 0; st && st.isSymbolicLink(); n++) {
    if (n > 10) throw new Error(`too many symlinks in ${p0}`);
    let target = fs.readlinkSync(p);
    if (!path.isAbsolute(target)) target = path.join(splitPathDirEntry(p)[0], target);
    p = target;
    try {
      st = fs.lstatSync(p);
    } catch {
      st = undefined;
    }
  }
  if (!st) {
    const [parent] = splitPathDirEntry(p);
    let ps: fs.Stats;
    try {
      ps = fs.statSync(parent);
    } catch (e) {
      throw new Error(`stat ${parent}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
    }
    if (!ps.isDirectory()) throw new Error('not a directory');
    return { path: p, exists: false, isDir: false, rebaseName: '' };
  }
  return { path: p, exists: true, isDir: st.isDirectory(), rebaseName: '' };
}

/** archive.PrepareArchiveCopy: the directory to extract into and the (rebased) archive. */
export function prepareArchiveCopy(src: Readable, srcInfo: CopyInfo, dstInfo: CopyInfo): [string, Readable] {
  const [dstDir, dstBase] = splitPathDirEntry(dstInfo.path);
  let [, srcBase] = splitPathDirEntry(srcInfo.path);
  if (dstInfo.exists && dstInfo.isDir) return [dstInfo.path, src];
  if (dstInfo.exists && srcInfo.isDir) throw new Error('cannot copy directory');
  if (!dstInfo.exists && !srcInfo.isDir && (hasTrailingSep(dstInfo.path) || specifiesCurrentDir(dstInfo.path))) throw new Error('no such directory');
  if (srcInfo.rebaseName) srcBase = srcInfo.rebaseName;
  return [dstDir, rebaseArchiveEntries(src, srcBase, dstBase)];
}

/** archive.RebaseArchiveEntries: the first occurrence of oldBase in each name becomes newBase. */
export function rebaseArchiveEntries(src: Readable, oldBase: string, newBase: string): Readable {
  const old = oldBase === '/' ? '' : oldBase;
  const ex = tar().extract();
  const out = tar().pack();
  ex.on('entry', (h: Headers, stream, next) => {
    const nh: Headers = { ...h, name: h.name.replace(old, newBase) };
    if (h.type === 'link' && h.linkname) nh.linkname = h.linkname.replace(old, newBase);
    const w = out.entry(nh as Header, (err) => (err ? ex.destroy(err) : next()));
    stream.pipe(w);
  });
  ex.on('finish', () => out.finalize());
  ex.on('error', (e) => out.destroy(e));
  src.on('error', (e) => ex.destroy(e));
  src.pipe(ex);
  return out as unknown as Readable;
}

/** TarResourceRebase: a tar of srcPath with entries named from its base (or rebaseName). */
export function tarResource(srcPath: string, rebaseName: string): Readable {
  fs.lstatSync(srcPath);
  const [dir, base] = splitPathDirEntry(srcPath);
  const p = tar().pack();
  const inodes = new Map<string, string>();
  const name = (rel: string) => {
    if (!rebaseName) return rel;
    return rel === base ? rebaseName : rel.startsWith(base + '/') ? rebaseName + rel.slice(base.length) : rel;
  };
  const walk = async (rel: string): Promise<void> => {
    const full = path.join(dir, rel);
    const st = fs.lstatSync(full);
    const common = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
    const entryName = rel === '.' ? '.' : name(rel);
    if (st.isDirectory()) {
      await addEntry(p, { ...common, name: entryName === '.' ? './' : `${entryName}/`, type: 'directory' });
      // go-archive names the children of an included "." "./child" (IncludeSourceDir).
      for (const child of fs.readdirSync(full).sort()) await walk(rel === '.' ? `./${child}` : `${rel}/${child}`);
    } else if (st.isSymbolicLink()) {
      await addEntry(p, { ...common, name: entryName, type: 'symlink', linkname: fs.readlinkSync(full) });
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      if (st.nlink > 1 && inodes.has(key)) {
        await addEntry(p, { ...common, name: entryName, type: 'link', linkname: inodes.get(key)! });
        return;
      }
      if (st.nlink > 1) inodes.set(key, entryName);
      await addEntry(p, { ...common, name: entryName, type: 'file', size: st.size }, fs.readFileSync(full));
    } else if (st.isFIFO()) {
      await addEntry(p, { ...common, name: entryName, type: 'fifo' });
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      await addEntry(p, { ...common, name: entryName, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: Math.floor(st.rdev / 256), devminor: st.rdev % 256 });
    }
  };
  void walk(base).then(
    () => p.finalize(),
    (e: unknown) => p.destroy(e as Error),
  );
  return p as unknown as Readable;
}

function addEntry(p: TarStream.Pack, h: Headers, body?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const cb = (err?: Error | null) => (err ? reject(err) : resolve());
    if (body) p.entry(h as Header, body, cb);
    else p.entry(h as Header, cb);
  });
}

/** archive.Untar with NoLchown and NoOverwriteDirNonDir (no chown, breakout refused). */
export function untar(src: Readable, dest: string): Promise<void> {
  const dirs: { p: string; mtime?: Date }[] = [];
  return new Promise((resolve, reject) => {
    const ex = tar().extract();
    ex.on('entry', (h: Headers, stream, next) => {
      const fail = (e: unknown) => {
        stream.resume();
        ex.destroy(e as Error);
      };
      try {
        const name = path.normalize(h.name);
        const target = path.join(dest, name);
        const rel = path.relative(dest, target);
        if (rel.startsWith('../') || rel === '..') throw new Error(`${JSON.stringify(h.name)} is outside of ${JSON.stringify(dest)}`);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        let existing: fs.Stats | undefined;
        try {
          existing = fs.lstatSync(target);
        } catch {
          existing = undefined;
        }
        if (existing) {
          if (existing.isDirectory() && h.type !== 'directory') throw new Error(`cannot overwrite directory "${target}" with non-directory "${dest}"`);
          if (!existing.isDirectory() && h.type === 'directory') throw new Error(`cannot overwrite non-directory "${target}" with directory "${dest}"`);
          if (existing.isDirectory() && (name === '.' || name === './')) {
            stream.resume();
            stream.on('end', next);
            return;
          }
          if (!(existing.isDirectory() && h.type === 'directory')) fs.rmSync(target, { recursive: true, force: true });
        }
        const mode = (h.mode ?? 0o644) & 0o7777;
        const finish = () => {
          if (h.type !== 'symlink') fs.chmodSync(target, mode);
          if (h.type === 'directory') dirs.push({ p: target, ...(h.mtime ? { mtime: h.mtime } : {}) });
          else if (h.type !== 'symlink' && h.mtime) fs.utimesSync(target, h.mtime, h.mtime);
          next();
        };
        switch (h.type) {
          case 'directory':
            if (!existing) fs.mkdirSync(target, { mode });
            stream.resume();
            stream.on('end', finish);
            return;
          case 'file':
          case 'contiguous-file': {
            const w = fs.createWriteStream(target, { mode });
            stream.pipe(w);
            w.on('finish', finish);
            w.on('error', fail);
            return;
          }
          case 'symlink': {
            const resolved = path.join(path.dirname(target), h.linkname ?? '');
            if (path.relative(dest, resolved).startsWith('../')) throw new Error(`invalid symlink "${target}" -> "${h.linkname}"`);
            fs.symlinkSync(h.linkname ?? '', target);
            stream.resume();
            stream.on('end', finish);
            return;
          }
          case 'link': {
            const linkTarget = path.join(dest, h.linkname ?? '');
            if (path.relative(dest, linkTarget).startsWith('../')) throw new Error(`invalid hardlink "${target}" -> "${h.linkname}"`);
            fs.linkSync(linkTarget, target);
            stream.resume();
            stream.on('end', finish);
            return;
          }
          default:
            // Devices and fifos need privileges the CLI may not have; they are skipped as docker's
            // rootless untar skips them.
            stream.resume();
            stream.on('end', next);
        }
      } catch (e) {
        fail(e);
      }
    });
    ex.on('finish', () => {
      for (const d of dirs) if (d.mtime) fs.utimesSync(d.p, d.mtime, d.mtime);
      resolve();
    });
    ex.on('error', reject);
    src.on('error', reject);
    src.pipe(ex);
  });
}

export function passThrough(): PassThrough {
  return new PassThrough();
}
