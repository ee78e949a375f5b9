// Writes directory trees as tar streams: an overlay upper dir as an OCI layer (whiteouts char 0/0 →
// ".wh.<name>", opaque dirs → ".wh..wh..opq", as dockerd's overlay2 Diff does), and plain trees for
// `docker export` and `docker cp`. Hard links are written as links, devices, fifos and symlinks as
// themselves, with owners, modes, whole-second mtimes and xattrs; names come in byte order, so the
// same tree gives the same bytes (and the same diff ID). Reads through tree-walk.ts (never follows a
// symlink); writes nothing to disk.
import { constants as fsc } from 'node:fs';
import * as fs from 'node:fs/promises';
import type { Sys } from '../../native/index';
import type { TarType } from './tar-reader';
import { encodeTarHeader, tarPadding, TAR_END, type TarWriteHeader } from './tar-writer';
import { INIT_PATHS, isInitStub, isWhiteout, LowerView, statDifferent } from './overlay-lower';
import { entryAt, walkTree, type EntryStat, type TreeEntry, type WalkOptions } from './tree-walk';

/** The filesystem calls of keel.node the writers need: xattrs and the directory scan. */
export type FsReader = Pick<Sys, 'llistxattr' | 'lgetxattr' | 'scanDir'>;

export type TarTreeOptions = {
  /** Read an overlay upper dir: convert whiteouts and opaque dirs to the OCI layer form. */
  overlay?: boolean;
  /** Name of the root directory's own entry; absent: the root has no entry, its children are at the top. */
  rootName?: string;
  /** Mount points to walk into (see WalkOptions). */
  descend?: WalkOptions['descend'];
  fsr: FsReader;
};

const WH_PREFIX = '.wh.';
const WH_OPAQUE = '.wh..wh..opq';
const CHUNK = 1 << 20;

/** major/minor of a dev_t as glibc's gnu_dev_major/minor split it. */
export function devSplit(rdev: number): { major: number; minor: number } {
  const r = BigInt(rdev);
  return { major: Number(((r >> 8n) & 0xfffn) | ((r >> 32n) & ~0xfffn)), minor: Number((r & 0xffn) | ((r >> 12n) & ~0xffn)) };
}

function typeOf(st: EntryStat): TarType | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return undefined; // sockets are not archived (as in Docker)
}

const carried = (n: string) => !n.startsWith('trusted.overlay.') && n !== 'security.selinux';

/** xattrs worth carrying: never overlayfs' own metadata or SELinux labels (host policy). */
function readXattrs(x: FsReader, e: TreeEntry): Map<string, Buffer> | undefined {
  if (e.xattrs) {
    const kept = e.xattrs.filter(([n]) => carried(n));
    return kept.length > 0 ? new Map(kept) : undefined;
  }
  let names: string[];
  try {
    names = x.llistxattr(e.path);
  } catch {
    return undefined;
  }
  let out: Map<string, Buffer> | undefined;
  for (const n of names) {
    if (!carried(n)) continue;
    const v = x.lgetxattr(e.path, n);
    if (v === null) continue;
    (out ??= new Map()).set(n, v);
  }
  return out;
}

function isOpaque(x: FsReader, e: TreeEntry): boolean {
  let v: Buffer | null | undefined;
  if (e.xattrs) v = e.xattrs.find(([n]) => n === 'trusted.overlay.opaque')?.[1];
  else {
    try {
      v = x.lgetxattr(e.path, 'trusted.overlay.opaque');
    } catch {
      return false;
    }
  }
  return !!v && v.length === 1 && v[0] === 0x79;
}

function baseHeader(name: string, st: EntryStat, type: TarType): TarWriteHeader {
  return { name, type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
}

/** Exactly size bytes of the file at p (zeros for what it lost meanwhile, cut where it grew). */
async function* fileBody(p: string, size: number): AsyncGenerator<Buffer> {
  let fh: fs.FileHandle | undefined;
  try {
    fh = await fs.open(p, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
    if (!(await fh.stat()).isFile()) {
      await fh.close();
      fh = undefined;
    }
  } catch {
    fh = undefined;
  }
  let pos = 0;
  try {
    while (fh && pos < size) {
      const buf = Buffer.alloc(Math.min(CHUNK, size - pos));
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
    }
  } finally {
    await fh?.close();
  }
  if (pos < size) yield Buffer.alloc(size - pos);
}

class TreeTar {
  private readonly links = new Map<string, string>();

  constructor(private readonly o: TarTreeOptions) {}

  /** The tar bytes of one entry named name (its content included). */
  async *entry(e: TreeEntry, name: string): AsyncGenerator<Buffer> {
    const { st } = e;
    if (this.o.overlay && st.isCharacterDevice() && st.rdev === 0) {
      const slash = name.lastIndexOf('/');
      yield encodeTarHeader({ ...baseHeader(`${name.slice(0, slash + 1)}${WH_PREFIX}${name.slice(slash + 1)}`, st, 'file'), mode: 0o600, size: 0 });
      return;
    }
    const type = typeOf(st);
    if (!type) return;
    const h = baseHeader(name, st, type);
    const x = readXattrs(this.o.fsr, e);
    if (x) h.xattrs = x;
    if (type !== 'directory' && st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.links.get(key);
      if (first !== undefined) {
        yield encodeTarHeader({ ...h, type: 'link', linkname: first });
        return;
      }
      this.links.set(key, name);
    }
    switch (type) {
      case 'file': {
        h.size = st.size;
        yield encodeTarHeader(h);
        if (e.data && e.data.length === st.size) yield e.data;
        else yield* fileBody(e.path, st.size);
        yield tarPadding(st.size);
        return;
      }
      case 'symlink':
        h.linkname = e.link ?? (await fs.readlink(e.path));
        break;
      case 'char':
      case 'block': {
        const d = devSplit(st.rdev);
        h.devmajor = d.major;
        h.devminor = d.minor;
        break;
      }
      default:
        break;
    }
    yield encodeTarHeader(h);
    if (type === 'directory' && this.o.overlay && isOpaque(this.o.fsr, e)) {
      yield encodeTarHeader({ name: `${name.replace(/\/$/, '')}/${WH_OPAQUE}`, type: 'file', mode: st.mode & 0o777, uid: st.uid, gid: st.gid, mtime: 0, size: 0 });
    }
  }
}

/**
 * The tar stream of the tree at root (end marker included). With rootName, the root's own entry
 * comes first and every name is under it (`docker cp` of a directory); without, names are relative
 * to root and the root has no entry (a layer, `docker export`).
 */
export async function* tarTree(root: string, o: TarTreeOptions): AsyncGenerator<Buffer> {
  const t = new TreeTar(o);
  const prefix = o.rootName === undefined ? '' : `${o.rootName.replace(/\/+$/, '')}/`;
  if (o.rootName !== undefined) {
    // root may be a /proc/self/fd magic link: stat it (lstat would describe the link).
    const st = await fs.stat(root);
    yield* t.entry({ rel: '', name: o.rootName, path: root, st }, o.rootName);
  }
  for await (const e of walkTree(root, { scanner: o.fsr, descend: o.descend })) yield* t.entry(e, `${prefix}${e.rel}`);
  yield TAR_END;
}

/** The tar stream of the single entry name in dir, archived as `as` (a file, symlink or device). */
export async function* tarEntry(dir: string, name: string, as: string, o: TarTreeOptions): AsyncGenerator<Buffer> {
  const e = await entryAt(dir, name);
  if (e) yield* new TreeTar(o).entry(e, as);
  yield TAR_END;
}

/**
 * An OCI layer tar of an overlay upper dir (a writable snapshot's changes) over its lower dirs
 * (topmost first). Left out, as dockerd's layers lack them: the runtime's mount stubs (INIT_PATHS,
 * new and empty) and directories that were only copied up (present below with the same type, mode
 * and owner, not opaque, nothing included inside). An unchanged snapshot gives the empty tar.
 */
export async function* tarUpperDir(upperDir: string, lowers: string[], fsr: FsReader): AsyncGenerator<Buffer> {
  const t = new TreeTar({ overlay: true, fsr });
  const lower = new LowerView(lowers, fsr);
  /** Directories on the current path whose header waits until something inside is written. */
  const pending: { e: TreeEntry; written: boolean }[] = [];
  async function* flush(): AsyncGenerator<Buffer> {
    for (const d of pending) {
      if (d.written) continue;
      d.written = true;
      yield* t.entry(d.e, d.e.rel);
    }
  }
  for await (const e of walkTree(upperDir, { scanner: fsr })) {
    while (pending.length > 0 && !e.rel.startsWith(`${pending.at(-1)!.e.rel}/`)) pending.pop();
    const { st } = e;
    if (isWhiteout(st)) {
      yield* flush();
      yield* t.entry(e, e.rel);
      continue;
    }
    // Only directories and the mount stubs need the lower layers.
    const low = st.isDirectory() || INIT_PATHS.has(e.rel) ? await lower.lookup(e.rel) : undefined;
    if (st.isDirectory()) {
      const opaque = isOpaque(fsr, e);
      const copiedUp = !!low && low.isDirectory() && !statDifferent(low, st);
      const stub = !low && isInitStub(e.rel, st);
      pending.push({ e, written: false });
      if (opaque || !(copiedUp || stub)) yield* flush();
      continue;
    }
    if (!low && isInitStub(e.rel, st)) continue;
    yield* flush();
    yield* t.entry(e, e.rel);
  }
  yield TAR_END;
}

/** sha256 of the empty tar (two zero blocks): the diff ID of a layer without changes. */
export const EMPTY_LAYER_DIFF_ID = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';
