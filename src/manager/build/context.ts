// What COPY/ADD read from: the ContextSource contract (implemented by the extracted build context,
// context-extract.ts, and here by DirSource: any directory, e.g. an image rootfs for COPY --from or a
// download, checksummed on demand as dockerd's lazy source does). Symlinks are only ever resolved
// inside the root. Knows nothing of instructions or images.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { constants as fsc } from 'node:fs';
import { cleanPath } from './dockerignore';
import { inRoot, isErrno, lstatOrUndefined, resolveInRoot } from './fs-scoped';
import { mapPool } from './pool';
import { startSum, sumOf, type SumHeader } from './tarsum';

export type EntryType = 'file' | 'directory' | 'symlink' | 'link' | 'char' | 'block' | 'fifo';

export type SourceEntry = {
  /** Clean path relative to the root ("" is the root). */
  path: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  linkname: string;
};

/**
 * Files a COPY/ADD reads from: the build context, a stage's or image's root filesystem, a download.
 * The files are on disk under `root`; the executor copies from there.
 */
export interface ContextSource {
  /** Host directory that holds (or, before directory(), will hold) the files. */
  readonly root: string;
  /** The host directory with every file in place (an in-memory context is written out first). */
  directory(): Promise<string>;
  /** The contents of the file at rel (symlinks resolved inside the root). */
  readFile(rel: string): Promise<Buffer>;
  /** The entry at rel (a final symlink is not followed), or undefined. */
  lstat(rel: string): Promise<SourceEntry | undefined>;
  /** rel with every symlink resolved inside root (the result may not exist). */
  resolve(rel: string): Promise<string>;
  /** The cache checksum of rel (tarsum v1 hex); rel itself when the source has no record of it. */
  hash(rel: string): Promise<string>;
  /** rel and everything below it, parents before children, names in byte order. */
  walk(rel: string): AsyncGenerator<SourceEntry>;
  /** Removes rel (used to drop an excluded Dockerfile or .dockerignore). */
  remove(rel: string): Promise<void>;
}

const TYPEFLAG: Record<EntryType, string> = { file: '0', link: '1', symlink: '2', char: '3', block: '4', directory: '5', fifo: '6' };

function entryType(st: import('node:fs').Stats): EntryType {
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return 'file';
}

/** A directory as a ContextSource; sums come from `sums` when recorded, else from the file itself. */
export class DirSource implements ContextSource {
  private readonly cache = new Map<string, string>();

  constructor(
    readonly root: string,
    private readonly sums?: ReadonlyMap<string, string>,
  ) {}

  async lstat(rel: string): Promise<SourceEntry | undefined> {
    const p = cleanRel(rel);
    const st = await lstatOrUndefined(inRoot(this.root, p));
    if (!st) return undefined;
    const type = entryType(st);
    return {
      path: p,
      type,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      size: type === 'file' ? st.size : 0,
      linkname: type === 'symlink' ? await fs.readlink(inRoot(this.root, p)) : '',
    };
  }

  resolve(rel: string): Promise<string> {
    return resolveInRoot(this.root, rel, true);
  }

  async directory(): Promise<string> {
    return this.root;
  }

  async readFile(rel: string): Promise<Buffer> {
    return fs.readFile(inRoot(this.root, await this.resolve(rel)));
  }

  async hash(rel: string): Promise<string> {
    const p = await this.resolve(rel);
    if (this.sums) return this.sums.get(p === '' ? '.' : p) ?? rel;
    const hit = this.cache.get(p);
    if (hit) return hit;
    const e = await this.lstat(p);
    if (!e) return p;
    const h = startSum(sumHeader(e));
    if (e.type === 'file' && e.size > 0) {
      const fh = await fs.open(inRoot(this.root, p), fsc.O_RDONLY | fsc.O_NOFOLLOW);
      try {
        for await (const c of fh.createReadStream()) h.update(c as Buffer);
      } finally {
        await fh.close().catch(() => undefined);
      }
    }
    const sum = h.digest('hex');
    this.cache.set(p, sum);
    return sum;
  }

  async *walk(rel: string): AsyncGenerator<SourceEntry> {
    const top = await this.lstat(rel);
    if (!top) return;
    yield top;
    if (top.type === 'directory') yield* this.walkDir(top.path);
  }

  private async *walkDir(dir: string): AsyncGenerator<SourceEntry> {
    const names = (await fs.readdir(inRoot(this.root, dir))).sort();
    const entries = await mapPool(names, 32, (n) => this.lstat(dir === '' ? n : `${dir}/${n}`));
    for (const e of entries) {
      if (!e) continue;
      yield e;
      if (e.type === 'directory') yield* this.walkDir(e.path);
    }
  }

  async remove(rel: string): Promise<void> {
    const p = cleanRel(rel);
    if (p === '') return;
    await fs.rm(inRoot(this.root, p), { recursive: true, force: true });
  }
}

function cleanRel(rel: string): string {
  const c = cleanPath(`/${rel}`).slice(1);
  return c;
}

/** The tar header fields that go into a checksum, for an entry read from disk (FileInfoHeader). */
export function sumHeader(e: SourceEntry): SumHeader {
  return {
    name: e.type === 'directory' ? `${e.path}/` : e.path,
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    size: e.type === 'file' ? e.size : 0,
    typeflag: TYPEFLAG[e.type],
    linkname: e.linkname,
    devmajor: 0,
    devminor: 0,
  };
}

/** The checksum of an inline file (COPY <<EOF) as a context entry named name with mode 0644. */
export function inlineFileSum(name: string, data: string, mode = 0o644): string {
  const buf = Buffer.from(data);
  return sumOf({ name, mode, uid: 0, gid: 0, size: buf.length, typeflag: '0', linkname: '', devmajor: 0, devminor: 0 }, buf);
}

/** sha256 of some bytes, hex. */
export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** True when rel exists in source (after resolving symlinks inside it). */
export async function existsIn(source: ContextSource, rel: string): Promise<boolean> {
  try {
    return (await source.lstat(await source.resolve(rel))) !== undefined;
  } catch (e) {
    if (isErrno(e, 'ELOOP')) return false;
    throw e;
  }
}
