// Extracts an untrusted tar (`docker cp` into a container, PUT /containers/{id}/archive) under a
// directory of a container view, so that no write can land outside the container. Every directory
// is reached through a pinned fd, one component at a time, and never through a symlink: an entry
// under a symlink (one the container has, or one this archive just made) is refused, as are
// absolute or ".." names, hard links leaving the destination and device nodes. Dockerd's semantics
// otherwise (pkg/archive Unpack): an existing entry is replaced unless both are directories,
// noOverwriteDirNonDir, owners from the archive or the container user's (copyUIDGID), directory
// times set last, ".wh." names are plain files here. Refusals are one line naming the entry.
import { constants as fsc } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { RuntimeError } from '../../errors/index';
import { writeAll } from '../fs-util';
import { decompress } from '../snapshots/apply-layer';
import { cliNodeOps, type NodeOps } from '../snapshots/node-ops';
import { readTar, type TarHeader } from '../snapshots/tar-reader';
import { openDir } from '../snapshots/tree-walk';
import { fdPath, type DirHandle, type ViewFs } from './rootfs-view';

export type ExtractOptions = {
  /** Refuse to replace a directory with a non-directory or the reverse (the CLI always asks). */
  noOverwriteDirNonDir: boolean;
  /** Owner for every entry (copyUIDGID with a container user); default: the archive's. */
  owner?: { uid: number; gid: number };
  ops?: NodeOps;
};

const MAX_CACHED_DIRS = 64;

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

function refuse(entry: string, why: string): RuntimeError {
  return new RuntimeError('InvalidArgument', `copy to container: archive entry ${JSON.stringify(entry)}: ${why}`);
}

/** Entry name (or a hard link's target) → components; absolute names and ".." are refused, never cleaned into something else. */
function entryParts(name: string, entry = name, what = ''): string[] {
  if (name.startsWith('/')) throw refuse(entry, `${what}absolute path`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw refuse(entry, `${what}path leaves the destination`);
  return parts;
}

/** Removes name (a whole tree when a directory) under the pinned directory path dir, never following a symlink. */
async function removeAt(dir: string, name: string): Promise<void> {
  const p = `${dir}/${name}`;
  const st = await fs.lstat(p);
  if (!st.isDirectory()) {
    await fs.unlink(p);
    return;
  }
  const fh = await openDir(p);
  try {
    const inner = `/proc/self/fd/${fh.fd}`;
    for (const n of await fs.readdir(inner)) await removeAt(inner, n);
  } finally {
    await fh.close();
  }
  await fs.rmdir(p);
}

class Extractor {
  /** Opened directories by path relative to the destination. */
  private readonly dirs = new Map<string, DirHandle>();
  private readonly dirMeta: { rel: string; h: TarHeader }[] = [];
  private readonly ops: NodeOps;

  constructor(
    private readonly vfs: ViewFs,
    private readonly dest: DirHandle,
    private readonly o: ExtractOptions,
  ) {
    this.ops = o.ops ?? cliNodeOps;
    this.dirs.set('', dest);
  }

  private owner(h: TarHeader): { uid: number; gid: number } {
    return this.o.owner ?? { uid: h.uid, gid: h.gid };
  }

  private async trim(keep: string): Promise<void> {
    if (this.dirs.size <= MAX_CACHED_DIRS) return;
    for (const [rel, h] of this.dirs) {
      if (rel === '' || keep === rel || keep.startsWith(`${rel}/`)) continue;
      this.dirs.delete(rel);
      await this.vfs.release(h);
    }
  }

  /**
   * The directory at parts (relative to the destination), each component a real directory:
   * missing ones are made (0755, root) when create, a symlink or a non-directory is refused.
   */
  private async dirAt(parts: string[], entry: string, create: boolean): Promise<DirHandle> {
    let rel = '';
    let cur = this.dest;
    for (const c of parts) {
      const next = rel === '' ? c : `${rel}/${c}`;
      const cached = this.dirs.get(next);
      if (cached) {
        cur = cached;
        rel = next;
        continue;
      }
      const cpath = path.posix.join(cur.cpath, c);
      const m = this.vfs.mountAt(cpath);
      if (!m) {
        let st;
        try {
          st = await fs.lstat(fdPath(cur.fh, c));
        } catch (e) {
          if (errno(e) !== 'ENOENT') throw e;
        }
        if (!st) {
          if (!create) throw refuse(entry, `${cpath} does not exist`);
          await fs.mkdir(fdPath(cur.fh, c), 0o755);
        } else if (st.isSymbolicLink()) {
          throw refuse(entry, `${cpath} is a symbolic link; cp never writes through one`);
        } else if (!st.isDirectory()) {
          throw refuse(entry, `${cpath} is not a directory`);
        }
      } else if (!m.rw) {
        throw new RuntimeError('FailedPrecondition', `copy to container: ${cpath}: mounted volume is marked read-only`);
      }
      let h: DirHandle;
      try {
        h = await this.vfs.openChild(cur, c);
      } catch (e) {
        if (errno(e) === 'ELOOP' || errno(e) === 'ENOTDIR') throw refuse(entry, `${cpath} changed into a non-directory while copying`);
        throw e;
      }
      this.dirs.set(next, h);
      await this.trim(next);
      cur = h;
      rel = next;
    }
    return cur;
  }

  private dropCached(rel: string): void {
    for (const k of [...this.dirs.keys()]) {
      if (k !== '' && (k === rel || k.startsWith(`${rel}/`))) {
        const h = this.dirs.get(k)!;
        this.dirs.delete(k);
        void this.vfs.release(h);
      }
    }
  }

  private async xattrs(p: string, h: TarHeader): Promise<void> {
    for (const [name, value] of h.xattrs) {
      if (name.startsWith('trusted.overlay.')) continue;
      try {
        await this.ops.lsetxattr(p, name, value);
      } catch (e) {
        if (!name.startsWith('security.')) continue;
        throw e;
      }
    }
  }

  async entry(h: TarHeader, body: AsyncIterable<Buffer>): Promise<void> {
    const parts = entryParts(h.name);
    if (parts.length === 0) return;
    const base = parts.at(-1)!;
    const rel = parts.join('/');
    const parent = await this.dirAt(parts.slice(0, -1), h.name, true);
    const target = fdPath(parent.fh, base);
    const cpath = path.posix.join(parent.cpath, base);
    if (this.vfs.mountAt(cpath)) {
      if (h.type !== 'directory') throw refuse(h.name, `${cpath} is a mount point`);
      await this.dirAt(parts, h.name, false);
      return;
    }
    let existing;
    try {
      existing = await fs.lstat(target);
    } catch (e) {
      if (errno(e) !== 'ENOENT') throw e;
    }
    const isDir = h.type === 'directory';
    if (existing) {
      if (this.o.noOverwriteDirNonDir && existing.isDirectory() && !isDir) throw refuse(h.name, `cannot overwrite directory ${JSON.stringify(cpath)} with non-directory`);
      if (this.o.noOverwriteDirNonDir && !existing.isDirectory() && isDir) throw refuse(h.name, `cannot overwrite non-directory ${JSON.stringify(cpath)} with directory`);
      if (!(existing.isDirectory() && isDir)) {
        this.dropCached(rel);
        await removeAt(fdPath(parent.fh), base);
      }
    }
    const own = this.owner(h);
    switch (h.type) {
      case 'directory': {
        if (!existing?.isDirectory()) await fs.mkdir(target, 0o700);
        const d = await this.dirAt(parts, h.name, false);
        await d.fh.chown(own.uid, own.gid);
        if (h.xattrs.size > 0) await this.xattrs(`/proc/${process.pid}/fd/${parent.fh.fd}/${base}`, h);
        this.dirMeta.push({ rel, h });
        return;
      }
      case 'file': {
        const fh = await fs.open(target, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
        try {
          await writeAll(fh, body);
          await fh.chown(own.uid, own.gid);
          await fh.chmod(h.mode);
          await fh.utimes(h.mtime, h.mtime);
        } finally {
          await fh.close();
        }
        break;
      }
      case 'symlink':
        await fs.symlink(h.linkname, target);
        await fs.lchown(target, own.uid, own.gid);
        await fs.lutimes(target, h.mtime, h.mtime);
        break;
      case 'link': {
        const tparts = entryParts(h.linkname, h.name, `hard link target ${JSON.stringify(h.linkname)}: `);
        if (tparts.length === 0) throw refuse(h.name, 'hard link to the destination itself');
        const tdir = await this.dirAt(tparts.slice(0, -1), h.name, false);
        const src = fdPath(tdir.fh, tparts.at(-1)!);
        let st;
        try {
          st = await fs.lstat(src);
        } catch (e) {
          if (errno(e) === 'ENOENT') throw refuse(h.name, `hard link target ${JSON.stringify(h.linkname)} does not exist`);
          throw e;
        }
        if (st.isDirectory()) throw refuse(h.name, 'hard link to a directory');
        await fs.link(src, target);
        break;
      }
      case 'char':
      case 'block':
        throw new RuntimeError('PermissionDenied', `copy to container: archive entry ${JSON.stringify(h.name)}: device nodes cannot be copied into a container`);
      case 'fifo':
        // mknod(8) runs in another process: it reaches our fd through our pid.
        await this.ops.mknod(`/proc/${process.pid}/fd/${parent.fh.fd}/${base}`, 'p', 0, 0, h.mode);
        await fs.lchown(target, own.uid, own.gid);
        break;
    }
    if (h.xattrs.size > 0) await this.xattrs(`/proc/${process.pid}/fd/${parent.fh.fd}/${base}`, h);
  }

  /** Directory modes and times last (creating entries inside changed them). */
  async finish(): Promise<void> {
    for (const { rel, h } of this.dirMeta.reverse()) {
      const d = await this.dirAt(rel.split('/'), h.name, false);
      await d.fh.chmod(h.mode);
      await d.fh.utimes(h.mtime, h.mtime);
    }
  }
}

/** Extracts the (possibly compressed) tar src under dest. Returns the number of entries. */
export async function extractArchive(vfs: ViewFs, dest: DirHandle, src: AsyncIterable<Buffer>, o: ExtractOptions): Promise<number> {
  const x = new Extractor(vfs, dest, o);
  let n = 0;
  for await (const { header, body } of readTar(decompress(src))) {
    await x.entry(header, body);
    n++;
  }
  await x.finish();
  return n;
}
