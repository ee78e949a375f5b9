// docker cp, export and diff on the engine: stat of a path in a container (the
// X-Docker-Container-Path-Stat value, with Go's FileMode bits), a tar of a path (GET archive), a tar
// extracted into a directory (PUT archive), the whole rootfs as a tar (export), and the changes of
// the writable layer (diff). Paths are resolved inside the container (rootfs-view.ts); running
// containers are frozen while their files are read or written. Docker's wording and events
// (archive-path, extract-to-dir, export).
import type { Stats } from 'node:fs';
import * as path from 'node:path';
import { RuntimeError } from '../../errors/index';
import { resolveUser } from '../bundle/user';
import { overlayChanges, type Change } from '../snapshots/changes';
import { tarEntry, tarTree, type FsReader } from '../snapshots/layer-writer';
import { lowerDirsOf } from '../snapshots/overlay-lower';
import { extractArchive } from './copy-extract';
import type { Engine } from './engine';
import { cleanPath, fdPath, withContainerView, type Resolved, type ViewFs } from './rootfs-view';

/** Docker's types.ContainerPathStat. mode is a Go os.FileMode; mtime RFC 3339 with nanoseconds. */
export type PathStat = { name: string; size: number; mode: number; mtime: string; linkTarget: string };

const GO_DIR = 2 ** 31;
const GO_SYMLINK = 2 ** 27;
const GO_DEVICE = 2 ** 26;
const GO_PIPE = 2 ** 25;
const GO_SOCKET = 2 ** 24;
const GO_SETUID = 2 ** 23;
const GO_SETGID = 2 ** 22;
const GO_CHARDEV = 2 ** 21;
const GO_STICKY = 2 ** 20;

/** st_mode → Go's os.FileMode (type bits high, permissions low), as os.Lstat reports it. */
export function goFileMode(st: Stats): number {
  let m = st.mode & 0o777;
  if (st.isDirectory()) m += GO_DIR;
  else if (st.isSymbolicLink()) m += GO_SYMLINK;
  else if (st.isFIFO()) m += GO_PIPE;
  else if (st.isSocket()) m += GO_SOCKET;
  else if (st.isCharacterDevice()) m += GO_DEVICE + GO_CHARDEV;
  else if (st.isBlockDevice()) m += GO_DEVICE;
  if (st.mode & 0o4000) m += GO_SETUID;
  if (st.mode & 0o2000) m += GO_SETGID;
  if (st.mode & 0o1000) m += GO_STICKY;
  return m;
}

/** Go's time.Time JSON (RFC 3339, nanoseconds without trailing zeros). */
export function goTime(st: Stats): string {
  const ns = BigInt(Math.round(st.mtimeMs * 1e6));
  const sec = ns / 1_000_000_000n;
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${new Date(Number(sec) * 1000).toISOString().slice(0, 19)}${frac ? `.${frac}` : ''}Z`;
}

function notFound(p: string, ref: string): RuntimeError {
  return new RuntimeError('NotFound', `Could not find the file ${p} in container ${ref}`);
}

/** Docker's split of a requested path: a trailing "/" or "/." asks for the directory itself. */
function wantsDir(p: string): boolean {
  return p === '' || p.endsWith('/') || p.endsWith('/.') || p === '.';
}

/** The name an archive's top entry and the stat carry: the last element of the path as asked. */
function baseName(p: string): string {
  const abs = cleanPath(p);
  if (p.endsWith('/.') || p === '.') return '.';
  return abs === '/' ? '/' : path.posix.basename(abs);
}

async function statOf(r: Resolved): Promise<Stats | undefined> {
  if (r.kind === 'dir') return r.dir.fh.stat();
  return r.st;
}

async function resolveStat(v: ViewFs, p: string): Promise<{ r: Resolved; st: Stats; linkTarget: string } | undefined> {
  let r: Resolved;
  try {
    r = await v.resolve(cleanPath(p), wantsDir(p));
  } catch (e) {
    if (e instanceof RuntimeError && e.kind === 'NotFound') return undefined;
    throw e;
  }
  const st = await statOf(r);
  if (!st) return undefined;
  if (wantsDir(p) && !st.isDirectory()) return undefined;
  let linkTarget = '';
  if (st.isSymbolicLink()) linkTarget = (await v.resolve(cleanPath(p), true, { missingOk: true })).cpath;
  return { r, st, linkTarget };
}

function stat(p: string, st: Stats, linkTarget: string): PathStat {
  return { name: baseName(p), size: st.size, mode: goFileMode(st), mtime: goTime(st), linkTarget };
}

/** HEAD /containers/{id}/archive. */
export async function statPath(e: Engine, ref: string, p: string): Promise<PathStat> {
  const rec = e.find(ref);
  return withContainerView(e, rec, { pause: true }, async (v) => {
    const s = await resolveStat(v, p);
    if (!s) throw notFound(p, ref);
    return stat(p, s.st, s.linkTarget);
  });
}

/**
 * GET /containers/{id}/archive: calls send with the path's stat and its tar (a directory under its
 * own name, or the single entry; a symlink as itself), within the container's freeze.
 */
export async function archivePath(e: Engine, fsr: FsReader, ref: string, p: string, send: (s: PathStat, tar: AsyncIterable<Buffer>) => Promise<void>): Promise<void> {
  const rec = e.find(ref);
  await withContainerView(e, rec, { pause: true }, async (v) => {
    const s = await resolveStat(v, p);
    if (!s) throw notFound(p, ref);
    const name = baseName(p);
    const r = s.r;
    const tar =
      r.kind === 'dir'
        ? tarTree(fdPath(r.dir.fh), { rootName: name === '/' ? '.' : name, fsr, descend: (rel) => v.mountAt(path.posix.join(r.cpath, rel))?.source })
        : s.st.isDirectory()
          ? (async function* () {
              const d = await v.openChild(r.parent, r.name);
              yield* tarTree(fdPath(d.fh), { rootName: name, fsr, descend: (rel) => v.mountAt(path.posix.join(d.cpath, rel))?.source });
            })()
          : tarEntry(fdPath(r.parent.fh), r.name, name, { fsr });
    await send(stat(p, s.st, s.linkTarget), tar);
  });
  e.event(rec, 'archive-path');
}

export type ExtractRequest = { noOverwriteDirNonDir: boolean; copyUIDGID: boolean };

/** PUT /containers/{id}/archive: extracts the tar src into the directory p of the container. */
export async function extractToDir(e: Engine, ref: string, p: string, src: AsyncIterable<Buffer>, o: ExtractRequest): Promise<void> {
  const rec = e.find(ref);
  await withContainerView(e, rec, { pause: true }, async (v) => {
    let r: Resolved;
    try {
      r = await v.resolve(cleanPath(p), true);
    } catch (err) {
      if (err instanceof RuntimeError && err.kind === 'NotFound') throw notFound(p, ref);
      throw err;
    }
    if (r.kind !== 'dir') {
      if (!r.st) throw notFound(p, ref);
      throw new RuntimeError('InvalidArgument', 'extraction point is not a directory');
    }
    const m = v.mountOf(r.cpath);
    if (m && !m.rw) throw new RuntimeError('FailedPrecondition', 'mounted volume is marked read-only');
    if (!m && v.view.readonlyRootfs) throw new RuntimeError('FailedPrecondition', 'container rootfs is marked read-only');
    let owner: { uid: number; gid: number } | undefined;
    if (o.copyUIDGID && rec.Config.User) {
      const u = await resolveUser(v.view.root, rec.Config.User);
      owner = { uid: u.uid, gid: u.gid };
    }
    await extractArchive(v, r.dir, src, { noOverwriteDirNonDir: o.noOverwriteDirNonDir, ...(owner ? { owner } : {}) });
  });
  e.event(rec, 'extract-to-dir');
}

/** GET /containers/{id}/export: the rootfs (no volumes) as a tar, names relative to "/". */
export async function exportContainer(e: Engine, fsr: FsReader, ref: string, send: (tar: AsyncIterable<Buffer>) => Promise<void>): Promise<void> {
  const rec = e.find(ref);
  await withContainerView(e, rec, { pause: true, noMounts: true }, async (v) => {
    const root = await v.root();
    await send(tarTree(fdPath(root.fh), { fsr }));
  });
  e.event(rec, 'export');
}

/** GET /containers/{id}/changes. */
export async function containerChanges(e: Engine, fsr: FsReader, ref: string): Promise<Change[]> {
  const rec = e.find(ref);
  return e.lock.run(rec.ID, async () => {
    const upper = await e.d.snapshotter.upperDir(rec.SnapshotKey);
    const lowers = lowerDirsOf(await e.d.snapshotter.mounts(rec.SnapshotKey));
    return overlayChanges(upper, lowers, fsr);
  });
}
