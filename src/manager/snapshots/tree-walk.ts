// Walks a directory tree that a container may be changing (an overlay upper dir, a rootfs) without
// ever following a symlink: each directory is held open while its children are visited, and every
// child is reached as "/proc/self/fd/<dir fd>/<name>" or relative to that fd, a single component the
// kernel resolves under that exact directory. A directory swapped for a symlink mid-walk is refused
// by O_NOFOLLOW, so the walk cannot be steered onto host files. A directory's entries come from one
// scanDir job (stat, small contents, link targets, xattrs: keel.node), in byte order of their names
// (deterministic archives). Reads only.
import { constants as fsc, type Stats } from 'node:fs';
import * as fs from 'node:fs/promises';
import type { ScanEntry, Sys } from '../../native/index';

/** The part of a stat an archive needs (fs.Stats has it too). */
export type EntryStat = Pick<Stats, 'mode' | 'uid' | 'gid' | 'size' | 'mtimeMs' | 'rdev' | 'dev' | 'ino' | 'nlink' | 'isFile' | 'isDirectory' | 'isSymbolicLink' | 'isCharacterDevice' | 'isBlockDevice' | 'isFIFO' | 'isSocket'>;

export type TreeEntry = {
  /** Path relative to the walk root, "/"-separated ("" is the root itself, never yielded). */
  rel: string;
  name: string;
  /** The entry as a single component under its pinned parent (for lstat-family calls, readlink, xattrs). */
  path: string;
  st: EntryStat;
  /** The whole content of a regular file (up to READ_AHEAD bytes), read with its stat. */
  data?: Buffer;
  /** A symlink's target, read with its stat. */
  link?: string;
  /** Every xattr, read with its stat (absent: not read; ask for them through path). */
  xattrs?: [string, Buffer][];
};

/** keel.node's directory scan (a fake in tests). */
export type DirScanner = Pick<Sys, 'scanDir'>;

export type WalkOptions = {
  scanner: DirScanner;
  /**
   * Called for each directory before its children are visited: a host path to walk instead (the
   * source of a volume mounted there), 'skip' to leave its children out, or undefined.
   */
  descend?(rel: string): string | 'skip' | undefined;
};

/** Files up to this size are read with their directory; bigger ones are streamed when written. */
export const READ_AHEAD = 1 << 20;
/** What one directory scan may read ahead in all. */
const SCAN_BUDGET = 32 << 20;

const O_DIR = fsc.O_RDONLY | fsc.O_DIRECTORY | fsc.O_NOFOLLOW;
const S_IFMT = 0o170000;

export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function gone(e: unknown): boolean {
  const c = (e as NodeJS.ErrnoException).code;
  return c === 'ENOENT' || c === 'ENOTDIR';
}

/** Opens a directory of the tree (never through a final symlink). */
export async function openDir(p: string): Promise<fs.FileHandle> {
  return fs.open(p, O_DIR);
}

/** A scanDir entry's stat with fs.Stats' predicates (mtimeMs computed as Node computes it). */
class ScanStat implements EntryStat {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly rdev: number;
  readonly dev: number;
  readonly ino: number;
  readonly nlink: number;

  constructor(s: ScanEntry) {
    this.mode = s.mode;
    this.uid = s.uid;
    this.gid = s.gid;
    this.size = s.size;
    this.mtimeMs = s.mtimeSec * 1e3 + s.mtimeNsec / 1e6;
    this.rdev = s.rdev;
    this.dev = s.dev;
    this.ino = s.ino;
    this.nlink = s.nlink;
  }

  private is(t: number): boolean {
    return (this.mode & S_IFMT) === t;
  }
  isFile(): boolean {
    return this.is(fsc.S_IFREG);
  }
  isDirectory(): boolean {
    return this.is(fsc.S_IFDIR);
  }
  isSymbolicLink(): boolean {
    return this.is(fsc.S_IFLNK);
  }
  isCharacterDevice(): boolean {
    return this.is(fsc.S_IFCHR);
  }
  isBlockDevice(): boolean {
    return this.is(fsc.S_IFBLK);
  }
  isFIFO(): boolean {
    return this.is(fsc.S_IFIFO);
  }
  isSocket(): boolean {
    return this.is(fsc.S_IFSOCK);
  }
}

/**
 * The entries of the pinned directory dir, in byte order of their names (vanished ones left out),
 * with the content of regular files up to readAhead bytes.
 */
export async function scanEntries(scanner: DirScanner, dir: string, rel: string, readAhead = READ_AHEAD): Promise<TreeEntry[]> {
  let raw: ScanEntry[];
  try {
    raw = await scanner.scanDir(dir, readAhead, readAhead === 0 ? 0 : SCAN_BUDGET);
  } catch (e) {
    if (gone(e)) return [];
    throw e;
  }
  raw.sort((a, b) => byteOrder(a.name, b.name));
  const out: TreeEntry[] = [];
  for (const r of raw) {
    if (r.errno !== undefined) continue;
    const e: TreeEntry = { rel: rel === '' ? r.name : `${rel}/${r.name}`, name: r.name, path: `${dir}/${r.name}`, st: new ScanStat(r), xattrs: r.xattrs ?? [] };
    if (r.data) e.data = r.data;
    if (r.link !== undefined) e.link = r.link;
    out.push(e);
  }
  return out;
}

async function* walkDir(dir: string, rel: string, o: WalkOptions): AsyncGenerator<TreeEntry> {
  for (const entry of await scanEntries(o.scanner, dir, rel)) {
    yield entry;
    if (!entry.st.isDirectory()) continue;
    const alt = o.descend?.(entry.rel);
    if (alt === 'skip') continue;
    let fh: fs.FileHandle;
    try {
      fh = await (alt !== undefined ? fs.open(alt, fsc.O_RDONLY | fsc.O_DIRECTORY) : openDir(entry.path));
    } catch (e) {
      if (gone(e) || (e as NodeJS.ErrnoException).code === 'ELOOP') continue;
      throw e;
    }
    try {
      yield* walkDir(`/proc/self/fd/${fh.fd}`, entry.rel, o);
    } finally {
      await fh.close();
    }
  }
}

/** Every entry under root (root itself excluded), parents before children, names in byte order. */
export async function* walkTree(root: string, o: WalkOptions): AsyncGenerator<TreeEntry> {
  const fh = await fs.open(root, fsc.O_RDONLY | fsc.O_DIRECTORY);
  try {
    yield* walkDir(`/proc/self/fd/${fh.fd}`, '', o);
  } finally {
    await fh.close();
  }
}

/** The one entry `name` in the directory dir (no content read ahead); undefined when absent. */
export async function entryAt(dir: string, name: string): Promise<TreeEntry | undefined> {
  const p = `${dir}/${name}`;
  try {
    return { rel: name, name, path: p, st: await fs.lstat(p) };
  } catch (e) {
    if (gone(e)) return undefined;
    throw e;
  }
}
