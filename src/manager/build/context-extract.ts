// The build context from the body of POST /build: a tar (plain, gzip, bzip2, xz, zstd) read into an
// in-memory index of every entry (type, mode, owner, size, link, dockerd's tarsum checksum) that
// answers lstat/resolve/hash/walk/readFile. The files reach a private directory only when a COPY/ADD
// first needs them (a fully cached build writes nothing), or at once when the context passes
// MEMORY_LIMIT bytes of data; the disk operations are queued in tar order and replayed, so both
// paths make the same tree. Hostile entries: ".." refused, absolute names kept inside, parents and
// symlinks resolved inside the root only, hard links must point inside, devices and fifos skipped.
// Small files are written in parallel.
import { constants as fsc } from 'node:fs';
import * as fs from 'node:fs/promises';
import { errors } from '../../errors/index';
import { readTar, type TarHeader } from '../snapshots/tar-reader';
import type { ContextSource, SourceEntry } from './context';
import { decompressAny } from './decompress';
import { cleanPath } from './dockerignore';
import { inRoot } from './fs-scoped';
import { startSum, type SumHeader } from './tarsum';

type Indexed = SourceEntry & { sum?: string };

const TYPEFLAG: Record<string, string> = { file: '0', link: '1', symlink: '2', char: '3', block: '4', directory: '5', fifo: '6' };
const SMALL = 1 << 20;
const IN_FLIGHT = 32;
const MAX_LINKS = 255;
/** Context data held in memory before the extraction goes to disk (dockerd spools to a file too). */
export const MEMORY_LIMIT = 64 << 20;

type DiskOp = () => Promise<void>;

/**
 * The disk side of an extraction: operations queued while the context is in memory, run directly
 * once it is on disk. Operations only ever depend on earlier ones (tar order).
 */
class Spool {
  private queue: DiskOp[] | undefined = [];
  private done: Promise<void> | undefined;
  private finish: DiskOp = async () => undefined;

  get inMemory(): boolean {
    return this.queue !== undefined;
  }

  async run(op: DiskOp): Promise<void> {
    if (this.queue) this.queue.push(op);
    else await op();
  }

  /** What completes the tree once every operation ran (directory modes, pending writes). */
  setFinish(f: DiskOp): void {
    this.finish = f;
  }

  /** Runs the queued operations (once) and switches to direct mode. */
  flush(): Promise<void> {
    this.done ??= (async () => {
      const q = this.queue ?? [];
      this.queue = undefined;
      for (const op of q) await op();
    })();
    return this.done;
  }

  /** Everything on disk, completed (once). */
  private completed: Promise<void> | undefined;
  complete(): Promise<void> {
    this.completed ??= this.flush().then(() => this.finish());
    return this.completed;
  }
}

const parentOf = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
const baseOf = (p: string) => p.slice(p.lastIndexOf('/') + 1);
const join = (a: string, b: string) => (a === '' ? b : `${a}/${b}`);

/** A context whose metadata is in memory and whose files are in memory or on disk under root. */
export class IndexedSource implements ContextSource {
  /** File data while the context is in memory (dropped once it is on disk). */
  data: Map<string, Buffer> | undefined = new Map();

  constructor(
    /** Where the files are (or will be) on disk. */
    readonly root: string,
    private readonly entries: Map<string, Indexed>,
    private readonly children: Map<string, Set<string>>,
    private readonly spool: Spool,
  ) {}

  /** Writes the context out (first call) and returns its directory. */
  async directory(): Promise<string> {
    await this.spool.complete();
    this.data = undefined;
    return this.root;
  }

  async readFile(rel: string): Promise<Buffer> {
    const p = this.resolveSync(rel);
    const e = this.entries.get(p);
    if (!e) throw errors.notFound(`${rel}: no such file in the build context`);
    if (e.type === 'directory') throw errors.invalid(`${rel}: is a directory`);
    const b = this.data?.get(p);
    if (b) return b;
    if (this.data && e.size === 0) return Buffer.alloc(0);
    return fs.readFile(inRoot(await this.directory(), p));
  }

  async lstat(rel: string): Promise<SourceEntry | undefined> {
    return this.entries.get(cleanPath(`/${rel}`).slice(1));
  }

  /** FollowSymlinkInScope over the index (the index mirrors the disk). */
  resolveSync(rel: string, followLast = true): string {
    const todo = rel.split('/').filter((x) => x !== '' && x !== '.');
    const done: string[] = [];
    let links = 0;
    while (todo.length > 0) {
      const part = todo.shift()!;
      if (part === '..') {
        done.pop();
        continue;
      }
      const cur = join(done.join('/'), part);
      const e = this.entries.get(cur);
      if (!e || e.type !== 'symlink' || (todo.length === 0 && !followLast)) {
        done.push(part);
        continue;
      }
      if (++links > MAX_LINKS) throw errors.invalid(`too many links in ${rel}`);
      if (e.linkname.startsWith('/')) done.length = 0;
      todo.unshift(...e.linkname.split('/').filter((x) => x !== '' && x !== '.'));
    }
    return done.join('/');
  }

  async resolve(rel: string): Promise<string> {
    return this.resolveSync(rel);
  }

  async hash(rel: string): Promise<string> {
    return this.entries.get(this.resolveSync(rel))?.sum ?? rel;
  }

  async *walk(rel: string): AsyncGenerator<SourceEntry> {
    const top = this.entries.get(cleanPath(`/${rel}`).slice(1));
    if (!top) return;
    const stack: SourceEntry[] = [top];
    while (stack.length > 0) {
      const e = stack.pop()!;
      yield e;
      if (e.type !== 'directory') continue;
      const names = [...(this.children.get(e.path) ?? [])].sort().reverse();
      for (const n of names) stack.push(this.entries.get(join(e.path, n))!);
    }
  }

  /** Drops p and everything below it from the index. */
  forget(p: string): void {
    for (const k of [...this.entries.keys()]) if (k === p || k.startsWith(`${p}/`) || p === '') this.entries.delete(k);
    for (const k of [...this.children.keys()]) if (k === p || k.startsWith(`${p}/`)) this.children.delete(k);
    this.children.get(parentOf(p))?.delete(baseOf(p));
  }

  async remove(rel: string): Promise<void> {
    const p = cleanPath(`/${rel}`).slice(1);
    if (p === '') return;
    const abs = inRoot(this.root, p);
    await this.spool.run(() => fs.rm(abs, { recursive: true, force: true }));
    this.forget(p);
    if (this.data) for (const k of [...this.data.keys()]) if (k === p || k.startsWith(`${p}/`)) this.data.delete(k);
  }
}

export type ExtractResult = {
  source: IndexedSource;
  /** Entries that were not created (device nodes, fifos). */
  skipped: string[];
  /** Bytes of file data. */
  size: number;
};

/** A context entry name as a clean relative path; names that climb out are refused. */
function contextPath(name: string): string {
  const c = cleanPath(name);
  const rel = c.startsWith('/') ? c.slice(1) : c;
  if (rel === '..' || rel.startsWith('../')) throw errors.invalid(`build context: ${JSON.stringify(name)} is outside of the build context`);
  return rel === '.' ? '' : rel;
}

function sumHeaderOf(h: TarHeader): SumHeader {
  return {
    name: h.name,
    mode: h.mode,
    uid: h.uid,
    gid: h.gid,
    size: h.type === 'file' ? h.size : 0,
    typeflag: TYPEFLAG[h.type]!,
    linkname: h.linkname,
    devmajor: h.devmajor,
    devminor: h.devminor,
    ...(h.xattrs.size ? { xattrs: h.xattrs } : {}),
  };
}

const UMASK = process.umask();

async function writeFile(abs: string, data: Buffer | AsyncIterable<Buffer>, mode: number, mtime: number): Promise<void> {
  // Plain modes the umask leaves alone (0644, 0755) are set by open itself: one round trip less per file.
  const direct = (mode & 0o777) === mode && (mode & ~UMASK) === mode;
  const fh = await fs.open(abs, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, direct ? mode : 0o600);
  try {
    if (Buffer.isBuffer(data)) {
      if (data.length) await fh.write(data);
    } else for await (const c of data) await fh.write(c);
    if (!direct) await fh.chmod(mode);
    await fh.utimes(mtime, mtime);
  } finally {
    await fh.close();
  }
}

/**
 * Reads a context tar and indexes it; its files go to dir (created; must not exist or be empty) on
 * source.directory(), or during the read once more than memoryLimit bytes of data came. Every
 * entry's checksum is dockerd's: tarsum v1 of its raw header and data.
 */
export async function extractContext(stream: AsyncIterable<Buffer>, dir: string, memoryLimit = MEMORY_LIMIT): Promise<ExtractResult> {
  const spool = new Spool();
  await spool.run(() => fs.mkdir(dir, { recursive: true, mode: 0o700 }).then(() => undefined));
  const entries = new Map<string, Indexed>([['', { path: '', type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0, linkname: '' }]]);
  const children = new Map<string, Set<string>>([['', new Set()]]);
  const src = new IndexedSource(dir, entries, children, spool);
  const pending = new Map<string, Promise<void>>();
  const dirs = new Map<string, [number, number]>();
  const skipped: string[] = [];
  let failure: unknown;
  let size = 0;
  const settle = async (p: string) => {
    const w = pending.get(p);
    if (w) await w;
  };
  const add = (e: Indexed) => {
    entries.set(e.path, e);
    if (e.type === 'directory' && !children.has(e.path)) children.set(e.path, new Set());
    children.get(parentOf(e.path))?.add(baseOf(e.path));
  };
  /** Resolves (inside dir) and creates the directory rel, recording the directories it makes. */
  const ensureDir = async (rel: string): Promise<string> => {
    let cur = '';
    for (const part of rel.split('/').filter(Boolean)) {
      cur = src.resolveSync(join(cur, part));
      const e = entries.get(cur);
      if (e?.type === 'directory') continue;
      if (e) throw errors.invalid(`build context: ${rel}: ${cur} is not a directory`);
      const abs = inRoot(dir, cur);
      await spool.run(() => fs.mkdir(abs, 0o755));
      add({ path: cur, type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0, linkname: '' });
    }
    return cur;
  };
  for await (const { header: h, body } of readTar(decompressAny(stream))) {
    if (failure) throw failure;
    const rel = contextPath(h.name);
    if (rel === '' && h.type !== 'directory') throw errors.invalid(`build context: ${JSON.stringify(h.name)} names the context root`);
    const sum = startSum(sumHeaderOf(h));
    if (h.type === 'char' || h.type === 'block' || h.type === 'fifo') {
      skipped.push(rel);
      continue;
    }
    const target = rel === '' ? '' : join(await ensureDir(parentOf(rel)), baseOf(rel));
    const abs = inRoot(dir, target);
    const old = entries.get(target);
    const e: Indexed = { path: target, type: h.type === 'directory' ? 'directory' : h.type === 'symlink' ? 'symlink' : h.type === 'link' ? 'link' : 'file', mode: h.mode, uid: h.uid, gid: h.gid, size: h.type === 'file' ? h.size : 0, linkname: h.linkname };
    if (old && !(old.type === 'directory' && e.type === 'directory')) {
      await spool.run(async () => {
        await settle(target);
        await fs.rm(abs, { recursive: true, force: true });
      });
      src.forget(target);
      src.data?.delete(target);
    }
    if (e.type === 'directory') {
      if (!old || old.type !== 'directory') await spool.run(() => fs.mkdir(abs, 0o700));
      dirs.set(abs, [h.mode, h.mtime]);
      add({ ...e, sum: sum.digest('hex') });
      continue;
    }
    if (e.type === 'symlink') {
      const to = h.linkname;
      await spool.run(() => fs.symlink(to, abs));
    } else if (e.type === 'link') {
      const lt = src.resolveSync(contextPath(h.linkname), false);
      const te = entries.get(lt);
      if (!te || te.type === 'directory') throw errors.invalid(`build context: ${h.name}: invalid hardlink to ${h.linkname}`);
      const from = inRoot(dir, lt);
      const linked = src.data?.get(lt);
      if (linked) src.data!.set(target, linked);
      await spool.run(async () => {
        await settle(lt);
        await fs.link(from, abs);
      });
      e.mode = te.mode;
    } else if (h.size <= SMALL || (spool.inMemory && size + h.size <= memoryLimit)) {
      const parts: Buffer[] = [];
      for await (const c of body) {
        sum.update(c);
        parts.push(c);
      }
      size += h.size;
      const data = Buffer.concat(parts);
      src.data?.set(target, data);
      const { mode, mtime } = h;
      await spool.run(async () => {
        while (pending.size >= IN_FLIGHT) await Promise.race(pending.values());
        const w = writeFile(abs, data, mode, mtime).then(
          () => void pending.delete(target),
          (err: unknown) => {
            pending.delete(target);
            failure ??= err;
          },
        );
        pending.set(target, w);
      });
      if (spool.inMemory && size > memoryLimit) {
        await spool.flush();
        src.data = undefined;
      }
    } else {
      if (spool.inMemory) {
        await spool.flush();
        src.data = undefined;
      }
      await writeFile(
        abs,
        (async function* () {
          for await (const c of body) {
            sum.update(c);
            size += c.length;
            yield c;
          }
        })(),
        h.mode,
        h.mtime,
      );
    }
    add({ ...e, sum: sum.digest('hex') });
  }
  spool.setFinish(async () => {
    await Promise.all(pending.values());
    if (failure) throw failure;
    // Directory modes last, deepest first, so a read-only directory does not stop its own extraction.
    for (const [p, [mode, mtime]] of [...dirs].sort((a, b) => b[0].length - a[0].length)) {
      await fs.chmod(p, mode);
      await fs.utimes(p, mtime, mtime);
    }
    if (!dirs.has(dir)) await fs.chmod(dir, 0o755);
  });
  if (!spool.inMemory) await src.directory();
  return { source: src, skipped, size };
}
