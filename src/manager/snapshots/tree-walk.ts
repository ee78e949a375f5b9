// Walks a directory tree that a container may be changing (an overlay upper dir, a rootfs) without
// ever following a symlink: each directory is held open while its children are visited, and every
// child is reached as "/proc/self/fd/<dir fd>/<name>", a single component the kernel resolves under
// that exact directory. A directory swapped for a symlink mid-walk is refused by O_NOFOLLOW, so the
// walk cannot be steered onto host files. Entries come in byte order of their names (deterministic
// archives); small files are read ahead a few at a time. Reads only.
import * as fsCb from 'node:fs';
import { constants as fsc, type Dirent, type Stats } from 'node:fs';
import * as fs from 'node:fs/promises';
import { promisify } from 'node:util';

export type TreeEntry = {
  /** Path relative to the walk root, "/"-separated ("" is the root itself, never yielded). */
  rel: string;
  name: string;
  /** The entry as a single component under its pinned parent (for lstat-family calls, readlink, xattrs). */
  path: string;
  /** lstat of the entry (for a regular file read ahead: fstat of the opened file). */
  st: Stats;
  /** The whole content of a regular file up to READ_AHEAD bytes, read when the entry was reached. */
  data?: Buffer;
};

export type WalkOptions = {
  /**
   * Called for each directory before its children are visited: a host path to walk instead (the
   * source of a volume mounted there), 'skip' to leave its children out, or undefined.
   */
  descend?(rel: string): string | 'skip' | undefined;
};

/** Files up to this size are read while earlier entries are being written out. */
export const READ_AHEAD = 1 << 20;
const WINDOW = 32;

const O_DIR = fsc.O_RDONLY | fsc.O_DIRECTORY | fsc.O_NOFOLLOW;

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

// Raw-fd calls with callbacks: a FileHandle and its promise cost more than the syscall itself here.
const openFd = promisify(fsCb.open);
const fstatFd = promisify(fsCb.fstat);
const readFd = promisify(fsCb.read);
const closeFd = promisify(fsCb.close);
const lstatP = promisify(fsCb.lstat);

/** Reads a regular file without following a final symlink; undefined when it vanished or changed type. */
async function readSmall(p: string): Promise<{ st: Stats; data: Buffer } | undefined> {
  let fd: number;
  try {
    fd = await openFd(p, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  } catch (e) {
    if (gone(e) || (e as NodeJS.ErrnoException).code === 'ELOOP') return undefined;
    throw e;
  }
  try {
    const st = await fstatFd(fd);
    if (!st.isFile() || st.size > READ_AHEAD) return undefined;
    const data = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < st.size) {
      const { bytesRead } = await readFd(fd, data, off, st.size - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return { st, data: off === st.size ? data : data.subarray(0, off) };
  } finally {
    await closeFd(fd);
  }
}

/**
 * The entry name in dir. A regular file per its directory entry is opened straight away (its fstat
 * is the entry's stat: one call fewer than lstat first); anything else, or a file that changed
 * meanwhile, is lstat'ed.
 */
async function visit(dir: string, rel: string, name: string, isFile: boolean): Promise<TreeEntry | undefined> {
  const p = `${dir}/${name}`;
  const entryRel = rel === '' ? name : `${rel}/${name}`;
  if (isFile) {
    const r = await readSmall(p);
    if (r) return { rel: entryRel, name, path: p, st: r.st, data: r.data };
  }
  let st: Stats;
  try {
    st = await lstatP(p);
  } catch (e) {
    if (gone(e)) return undefined;
    throw e;
  }
  return { rel: entryRel, name, path: p, st };
}

/** Yields fn(item) for each item in order, with up to WINDOW calls in flight. */
async function* ordered<T, R>(items: T[], fn: (t: T) => Promise<R>): AsyncGenerator<R> {
  const pending: Promise<R>[] = [];
  let next = 0;
  const start = () => {
    const p = fn(items[next++]!);
    p.catch(() => undefined);
    pending.push(p);
  };
  while (next < items.length && pending.length < WINDOW) start();
  while (pending.length > 0) {
    const r = await pending.shift()!;
    if (next < items.length) start();
    yield r;
  }
}

async function* walkDir(dir: string, rel: string, o: WalkOptions): AsyncGenerator<TreeEntry> {
  let dirents: Dirent[];
  try {
    dirents = await fs.readdir(dir, { withFileTypes: true });
  } catch (e) {
    if (gone(e)) return;
    throw e;
  }
  dirents.sort((a, b) => byteOrder(a.name, b.name));
  for await (const entry of ordered(dirents, (d) => visit(dir, rel, d.name, d.isFile()))) {
    if (!entry) continue;
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
export async function* walkTree(root: string, o: WalkOptions = {}): AsyncGenerator<TreeEntry> {
  const fh = await fs.open(root, fsc.O_RDONLY | fsc.O_DIRECTORY);
  try {
    yield* walkDir(`/proc/self/fd/${fh.fd}`, '', o);
  } finally {
    await fh.close();
  }
}

/** The one entry `name` in the directory dir (read ahead like a walked entry); undefined when absent. */
export function entryAt(dir: string, name: string): Promise<TreeEntry | undefined> {
  return visit(dir, '', name, false).then((e) => (e?.st.isFile() ? visit(dir, '', name, true) : e));
}
