// Applies one layer (gzip, zstd or plain tar, detected by magic) to a directory and returns its diff
// ID. Safe against hostile tars: absolute paths and ".." are refused, no path is ever resolved through
// a symlink (so nothing lands outside the dir), hardlink targets must be inside, devices only when
// allowed, trusted.overlay.* xattrs are never taken from a layer. Whiteouts become overlayfs
// whiteouts (char 0/0, trusted.overlay.opaque) or deletions. Knows nothing of snapshots or images.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { errors, RuntimeError } from '../../errors/index';
import { writeAll } from '../fs-util';
import { cliNodeOps, type NodeOps } from './node-ops';
import { readTar, type TarHeader } from './tar-reader';

export type ApplyOptions = {
  ops?: NodeOps;
  /** Character and block devices: create them (root), skip them, or refuse the layer. */
  devices?: 'create' | 'skip' | 'reject';
  /** Apply tar ownership (default: when running as root). */
  chown?: boolean;
  /** 'overlay': dir is an empty overlay upper dir, whiteouts are converted; 'delete': dir is a full tree and whiteouts delete. */
  whiteouts?: 'overlay' | 'delete';
};

export type ApplyResult = { diffId: string; size: number; entries: number };

const WH_PREFIX = '.wh.';
const WH_OPAQUE = '.wh..wh..opq';
/** Files up to this size are buffered and written in the background. */
const SMALL_FILE = 1 << 20;
const BACKGROUND_WRITES = 16;

/** Yields the decompressed bytes of a layer blob, choosing gzip, zstd or none by magic number. */
export async function* decompress(src: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const it = src[Symbol.asyncIterator]();
  let first = await it.next();
  while (!first.done && (first.value as Buffer).length === 0) first = await it.next();
  if (first.done) return;
  const head = first.value as Buffer;
  const rest = (async function* () {
    yield head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value as Buffer;
  })();
  if (head[0] === 0x1f && head[1] === 0x8b) {
    yield* Readable.from(rest).pipe(createGunzip({ chunkSize: 1 << 17 }));
    return;
  }
  if (head.readUInt32LE(0) === 0xfd2fb528) {
    // node 20's zlib has no zstd; the zstd CLI streams at disk speed.
    const child = spawn('zstd', ['-dcq'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve(code ?? 1));
    });
    const feeding = (async () => {
      try {
        for await (const c of rest) if (!child.stdin.write(c)) await new Promise((r) => child.stdin.once('drain', r));
      } finally {
        child.stdin.end();
      }
    })();
    feeding.catch(() => child.kill());
    try {
      yield* child.stdout as AsyncIterable<Buffer>;
      await feeding;
      const code = await exited;
      if (code !== 0) throw errors.invalid(`zstd: ${stderr.trim() || `exit ${code}`}`);
    } finally {
      if (child.exitCode === null) child.kill();
    }
    return;
  }
  yield* rest;
}

/** Cleans a tar path into components; refuses absolute paths and "..". Empty means the root itself. */
export function safeParts(name: string): string[] {
  if (name.startsWith('/')) throw errors.invalid(`layer entry ${JSON.stringify(name)}: absolute path`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw errors.invalid(`layer entry ${JSON.stringify(name)}: path escapes the layer root`);
  return parts;
}

function isErrno(e: unknown, code: string): boolean {
  return (e as NodeJS.ErrnoException | null)?.code === code;
}

class Applier {
  private readonly ops: NodeOps;
  private readonly chown: boolean;
  /** Relative dirs known to be real directories (created or checked), never symlinks. */
  private readonly dirs = new Set<string>(['']);
  /** Relative paths this layer created. */
  private readonly created = new Set<string>();
  private readonly dirTimes: [string, number][] = [];
  private readonly opaque: string[] = [];
  /** The target started empty, so a path we did not create does not exist (saves an lstat per entry). */
  private fresh = false;
  private readonly pending = new Map<string, Promise<void>>();
  private failure: unknown;

  constructor(
    private readonly root: string,
    private readonly opts: ApplyOptions,
  ) {
    this.ops = opts.ops ?? cliNodeOps;
    this.chown = opts.chown ?? process.getuid?.() === 0;
  }

  async init(): Promise<void> {
    await fs.mkdir(this.root, { recursive: true });
    this.fresh = (await fs.readdir(this.root)).length === 0;
  }

  private abs(rel: string): string {
    return rel === '' ? this.root : path.join(this.root, rel);
  }

  /** Makes sure every component of rel is a real directory inside root, creating missing ones (0755). */
  private async ensureDir(parts: string[]): Promise<string> {
    let rel = '';
    for (const p of parts) {
      rel = rel === '' ? p : `${rel}/${p}`;
      if (this.dirs.has(rel)) continue;
      let st;
      if (!(this.fresh && !this.created.has(rel))) {
        try {
          st = await fs.lstat(this.abs(rel));
        } catch (e) {
          if (!isErrno(e, 'ENOENT')) throw e;
        }
      }
      if (!st) {
        await fs.mkdir(this.abs(rel), 0o755);
        this.created.add(rel);
      } else if (st.isSymbolicLink()) {
        throw errors.invalid(`layer entry under ${JSON.stringify(rel)}: path goes through a symlink`);
      } else if (!st.isDirectory()) {
        throw errors.invalid(`layer entry under ${JSON.stringify(rel)}: not a directory`);
      }
      this.dirs.add(rel);
    }
    return rel;
  }

  /** Removes whatever exists at rel (unless both are directories); returns true when a directory stays. */
  private async clear(rel: string, keepDir: boolean): Promise<boolean> {
    if (this.fresh && !this.created.has(rel)) return false;
    let st;
    try {
      st = await fs.lstat(this.abs(rel));
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return false;
      throw e;
    }
    if (keepDir && st.isDirectory()) return true;
    await fs.rm(this.abs(rel), { recursive: true, force: true });
    for (const d of [...this.dirs]) if (d === rel || d.startsWith(`${rel}/`)) this.dirs.delete(d);
    for (const c of [...this.created]) if (c === rel || c.startsWith(`${rel}/`)) this.created.delete(c);
    return false;
  }

  private async whiteout(dirParts: string[], base: string): Promise<void> {
    const dirRel = await this.ensureDir(dirParts);
    if (base === WH_OPAQUE) {
      if (this.opts.whiteouts === 'delete') {
        for (const n of await fs.readdir(this.abs(dirRel))) {
          const rel = dirRel === '' ? n : `${dirRel}/${n}`;
          if (!this.created.has(rel)) await fs.rm(this.abs(rel), { recursive: true, force: true });
        }
      } else {
        this.opaque.push(dirRel);
      }
      return;
    }
    const name = base.slice(WH_PREFIX.length);
    if (name === '' || name === '.' || name === '..' || name.includes('/')) throw errors.invalid(`layer entry: bad whiteout ${JSON.stringify(base)}`);
    const rel = dirRel === '' ? name : `${dirRel}/${name}`;
    await this.clear(rel, false);
    if (this.opts.whiteouts !== 'delete') {
      await this.ops.mknod(this.abs(rel), 'c', 0, 0, 0);
      this.created.add(rel);
    }
  }

  private async setXattrs(abs: string, h: TarHeader): Promise<void> {
    for (const [name, value] of h.xattrs) {
      // A layer must not forge overlayfs metadata (opaque, redirect, metacopy).
      if (name.startsWith('trusted.overlay.')) continue;
      try {
        await this.ops.lsetxattr(abs, name, value);
      } catch (e) {
        if (e instanceof RuntimeError && e.kind === 'NotImplemented' && !name.startsWith('security.')) continue;
        throw e;
      }
    }
  }

  private async meta(abs: string, h: TarHeader, fh?: fs.FileHandle): Promise<void> {
    if (fh) {
      if (this.chown) await fh.chown(h.uid, h.gid);
      await fh.chmod(h.mode);
      await fh.utimes(h.mtime, h.mtime);
      return;
    }
    if (this.chown) await fs.lchown(abs, h.uid, h.gid);
    if (h.type !== 'symlink') await fs.chmod(abs, h.mode);
  }

  /** Waits for every background file write; rethrows the first failure. */
  async drain(): Promise<void> {
    await Promise.all(this.pending.values());
    if (this.failure !== undefined) throw this.failure;
  }

  /**
   * Small regular files are written in the background (up to BACKGROUND_WRITES at once) while the
   * tar stream moves on: per-file syscalls dominate extraction, and they overlap on the thread pool.
   * Any entry touching a path still being written (itself, a parent, a hardlink target) waits first.
   */
  private background(rel: string, task: () => Promise<void>): void {
    const p = task()
      .catch((e: unknown) => {
        this.failure ??= e;
      })
      .finally(() => {
        this.pending.delete(rel);
      });
    this.pending.set(rel, p);
  }

  private touchesPending(parts: string[]): boolean {
    if (this.pending.size === 0) return false;
    let rel = '';
    for (const p of parts) {
      rel = rel === '' ? p : `${rel}/${p}`;
      if (this.pending.has(rel)) return true;
    }
    return false;
  }

  async entry(h: TarHeader, body: AsyncIterable<Buffer>): Promise<void> {
    const parts = safeParts(h.name);
    if (parts.length === 0) return;
    if (this.failure !== undefined) throw this.failure;
    const base = parts[parts.length - 1]!;
    const dirParts = parts.slice(0, -1);
    const small = h.type === 'file' && h.size <= SMALL_FILE && h.xattrs.size === 0;
    if (!small || this.touchesPending(parts)) await this.drain();
    else if (this.pending.size >= BACKGROUND_WRITES) await Promise.race(this.pending.values());
    if (base.startsWith(WH_PREFIX)) return this.whiteout(dirParts, base);
    const parentRel = await this.ensureDir(dirParts);
    const rel = parentRel === '' ? base : `${parentRel}/${base}`;
    const abs = this.abs(rel);
    const isDir = await this.clear(rel, h.type === 'directory');
    switch (h.type) {
      case 'directory':
        if (!isDir) await fs.mkdir(abs, 0o700);
        this.dirs.add(rel);
        await this.meta(abs, h);
        this.dirTimes.push([abs, h.mtime]);
        break;
      case 'file': {
        if (small) {
          const chunks: Buffer[] = [];
          for await (const c of body) chunks.push(c);
          const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
          this.background(rel, async () => {
            const fh = await fs.open(abs, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
            try {
              if (data.length > 0) await fh.writeFile(data);
              await this.meta(abs, h, fh);
            } finally {
              await fh.close();
            }
          });
          break;
        }
        const fh = await fs.open(abs, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
        try {
          await writeAll(fh, body);
          await this.meta(abs, h, fh);
        } finally {
          await fh.close();
        }
        break;
      }
      case 'symlink':
        await fs.symlink(h.linkname, abs);
        await this.meta(abs, h);
        await fs.lutimes(abs, h.mtime, h.mtime);
        break;
      case 'link': {
        const tparts = safeParts(h.linkname);
        if (tparts.length === 0) throw errors.invalid(`layer entry ${JSON.stringify(h.name)}: hardlink to the root`);
        const tdir = tparts.slice(0, -1).join('/');
        // The target's parents must be real directories we know (never through a symlink).
        await this.ensureDir(tparts.slice(0, -1));
        const target = this.abs(tdir === '' ? tparts.at(-1)! : `${tdir}/${tparts.at(-1)}`);
        let st;
        try {
          st = await fs.lstat(target);
        } catch (e) {
          if (isErrno(e, 'ENOENT')) throw errors.invalid(`layer entry ${JSON.stringify(h.name)}: hardlink target ${JSON.stringify(h.linkname)} not in layer`);
          throw e;
        }
        if (st.isDirectory()) throw errors.invalid(`layer entry ${JSON.stringify(h.name)}: hardlink to a directory`);
        await fs.link(target, abs);
        break;
      }
      case 'char':
      case 'block':
        if (this.opts.devices === 'reject') throw new RuntimeError('PermissionDenied', `layer entry ${JSON.stringify(h.name)}: device nodes are not allowed`);
        if (this.opts.devices === 'skip') return;
        await this.ops.mknod(abs, h.type === 'char' ? 'c' : 'b', h.devmajor, h.devminor, h.mode);
        await this.meta(abs, h);
        break;
      case 'fifo':
        await this.ops.mknod(abs, 'p', 0, 0, h.mode);
        await this.meta(abs, h);
        break;
    }
    this.created.add(rel);
    if (h.xattrs.size > 0) await this.setXattrs(abs, h);
  }

  async finish(): Promise<void> {
    await this.drain();
    for (const d of this.opaque) await this.ops.lsetxattr(this.abs(d), 'trusted.overlay.opaque', Buffer.from('y'));
    // Directory times last: creating children changed them.
    for (const [abs, t] of this.dirTimes.reverse()) await fs.utimes(abs, t, t);
  }
}

/** Applies a (possibly compressed) layer blob stream to dir. */
export async function applyLayer(dir: string, blob: AsyncIterable<Buffer>, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const applier = new Applier(dir, opts);
  await applier.init();
  const hash = createHash('sha256');
  let size = 0;
  const hashed = (async function* () {
    for await (const c of decompress(blob)) {
      hash.update(c);
      size += c.length;
      yield c;
    }
  })();
  let entries = 0;
  try {
    for await (const { header, body } of readTar(hashed)) {
      await applier.entry(header, body);
      entries++;
    }
  } catch (e) {
    await applier.drain().catch(() => undefined);
    throw e;
  }
  await applier.finish();
  return { diffId: `sha256:${hash.digest('hex')}`, size, entries };
}
