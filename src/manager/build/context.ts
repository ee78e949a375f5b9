// Build contexts as the builder reads them: a tar stream (the body of POST /build, plain or
// compressed) extracted into a private directory with a checksum per entry, or any directory (an
// image rootfs for COPY --from, a downloaded file) checksummed on demand. Hostile input is refused or
// contained: ".." names, links through symlinks, devices; symlinks are kept as links and are only ever
// resolved inside the root. Knows nothing of instructions or images.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { constants as fsc } from 'node:fs';
import { errors } from '../../errors/index';
import { readTar, type TarHeader } from '../snapshots/tar-reader';
import { decompressAny } from './decompress';
import { cleanPath } from './dockerignore';
import { inRoot, isErrno, lstatOrUndefined, resolveInRoot } from './fs-scoped';
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
  /** Host directory that holds the files. */
  readonly root: string;
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
    if (top.type !== 'directory') return;
    const names = (await fs.readdir(inRoot(this.root, top.path))).sort();
    for (const n of names) yield* this.walk(top.path === '' ? n : `${top.path}/${n}`);
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

export type ExtractResult = {
  source: DirSource;
  /** Entries that were not created (device nodes, fifos), by path. */
  skipped: string[];
  /** Bytes of file data written. */
  size: number;
};

/**
 * Extracts a context tar (plain, gzip, bzip2, xz or zstd) into dir, which must be new and empty.
 * Names are cleaned; one that climbs out ("../x") is refused, an absolute one lands inside dir as
 * dockerd's untar does. Parents are resolved inside dir; hard links must point inside; symlinks are
 * written as they are; devices and fifos are skipped. Every entry's checksum is computed from its
 * raw header and data, as dockerd computes them while it untars.
 */
export async function extractContext(stream: AsyncIterable<Buffer>, dir: string): Promise<ExtractResult> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const sums = new Map<string, string>();
  const skipped: string[] = [];
  const dirModes: [string, number, number][] = [];
  let size = 0;
  for await (const { header: h, body } of readTar(decompressAny(stream))) {
    const rel = contextPath(h.name);
    const key = rel === '' ? '.' : rel;
    const sum = startSum(tarSumHeader(h));
    if (h.type === 'char' || h.type === 'block' || h.type === 'fifo') {
      skipped.push(rel);
      sums.set(key, sum.digest('hex'));
      continue;
    }
    const parent = rel.includes('/') ? await resolveInRoot(dir, rel.slice(0, rel.lastIndexOf('/'))) : '';
    await fs.mkdir(inRoot(dir, parent), { recursive: true, mode: 0o755 });
    const base = rel === '' ? '' : rel.slice(rel.lastIndexOf('/') + 1);
    const target = base === '' ? dir : path.join(inRoot(dir, parent), base);
    if (h.type === 'directory') {
      const st = await lstatOrUndefined(target);
      if (st && !st.isDirectory()) await fs.unlink(target);
      if (!st || !st.isDirectory()) await fs.mkdir(target, 0o700);
      dirModes.push([target, h.mode, h.mtime]);
    } else {
      const st = await lstatOrUndefined(target);
      if (st?.isDirectory()) await fs.rm(target, { recursive: true });
      else if (st) await fs.unlink(target);
      if (h.type === 'symlink') await fs.symlink(h.linkname, target);
      else if (h.type === 'link') {
        const lt = contextPath(h.linkname);
        const src = inRoot(dir, await resolveInRoot(dir, lt, false));
        const ls = await lstatOrUndefined(src);
        if (!ls || ls.isDirectory()) throw errors.invalid(`build context: ${h.name}: invalid hardlink to ${h.linkname}`);
        await fs.link(src, target);
      } else {
        const fh = await fs.open(target, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
        try {
          for await (const c of body) {
            sum.update(c);
            size += c.length;
            await fh.write(c);
          }
        } finally {
          await fh.close();
        }
        await fs.chmod(target, h.mode);
        await fs.utimes(target, h.mtime, h.mtime);
      }
    }
    sums.set(key, sum.digest('hex'));
  }
  // Directory modes last, deepest first, so a read-only directory does not stop its own extraction.
  for (const [p, mode, mtime] of dirModes.reverse()) {
    await fs.chmod(p, mode);
    await fs.utimes(p, mtime, mtime);
  }
  if (!sums.has('.')) await fs.chmod(dir, 0o755);
  return { source: new DirSource(dir, sums), skipped, size };
}

/** A context entry name as a clean relative path; names that climb out are refused. */
function contextPath(name: string): string {
  const c = cleanPath(name);
  const rel = c.startsWith('/') ? c.slice(1) : c;
  if (rel === '..' || rel.startsWith('../')) throw errors.invalid(`build context: ${JSON.stringify(name)} is outside of the build context`);
  return rel === '.' ? '' : rel;
}

function tarSumHeader(h: TarHeader): SumHeader {
  const xattrs = new Map<string, Buffer>(h.xattrs);
  return {
    name: h.name,
    mode: h.mode,
    uid: h.uid,
    gid: h.gid,
    size: h.type === 'file' ? h.size : 0,
    typeflag: TYPEFLAG[h.type],
    linkname: h.linkname,
    devmajor: h.devmajor,
    devminor: h.devminor,
    ...(xattrs.size ? { xattrs } : {}),
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
