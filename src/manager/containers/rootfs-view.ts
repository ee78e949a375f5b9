// A container's filesystem as the daemon reaches it for cp, export and commit: the merged rootfs in
// the daemon's mount namespace (the running container's own mount, or the snapshot mounted briefly
// when it is stopped), its volumes and binds mapped to their host sources, and paths resolved the
// way the container sees them. Resolution walks one component at a time through pinned directory
// fds ("/proc/self/fd/<fd>/<name>"): every symlink is read and resolved against the container's
// root, ".." stops at that root, and nothing is ever looked up through the host's "/", so a link to
// "/etc" means the container's /etc. A running container is frozen meanwhile unless told otherwise
// (a process swapping a directory for a symlink between check and use: CVE-2018-15664).
import { randomBytes } from 'node:crypto';
import { constants as fsc, type Stats } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { RuntimeError } from '../../errors/index';
import { mountAll, unmountAll } from '../snapshots/mount';
import { task } from '../tasks/shim';
import type { Engine } from './engine';
import type { ContainerRecord } from './types';

/** A volume or bind seen from the daemon: its container destination and host source. */
export type ViewMount = { destination: string; source: string; rw: boolean };

export type ContainerView = {
  /** Host path of the container's "/" (merged rootfs, no volumes). */
  root: string;
  /** Volumes and binds by destination (normalised, no trailing "/"). */
  mounts: Map<string, ViewMount>;
  readonlyRootfs: boolean;
};

/** A directory of the container held open, with the container path it was reached by. */
export type DirHandle = { fh: fs.FileHandle; cpath: string; mount?: ViewMount };

/** A resolved path: an opened directory, or an entry (maybe missing) in an opened parent. */
export type Resolved = { kind: 'dir'; dir: DirHandle; cpath: string } | { kind: 'entry'; parent: DirHandle; name: string; cpath: string; st?: Stats };

const MAX_LINKS = 255;
const O_DIR = fsc.O_RDONLY | fsc.O_DIRECTORY | fsc.O_NOFOLLOW;

export function fdPath(fh: fs.FileHandle, name?: string): string {
  return name === undefined ? `/proc/self/fd/${fh.fd}` : `/proc/self/fd/${fh.fd}/${name}`;
}

/** The container path p made absolute and clean ("a/../b/" → "/b"). */
export function cleanPath(p: string): string {
  return path.posix.normalize(`/${p}`).replace(/(.)\/+$/, '$1');
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

/** Opens directories and resolves paths inside one container view; close() releases every fd. */
export class ViewFs {
  private readonly open = new Set<fs.FileHandle>();
  private rootHandle?: DirHandle;

  constructor(readonly view: ContainerView) {}

  async root(): Promise<DirHandle> {
    if (!this.rootHandle) this.rootHandle = { fh: await this.track(fs.open(this.view.root, fsc.O_RDONLY | fsc.O_DIRECTORY)), cpath: '/' };
    return this.rootHandle;
  }

  private async track(p: Promise<fs.FileHandle>): Promise<fs.FileHandle> {
    const fh = await p;
    this.open.add(fh);
    return fh;
  }

  async release(h: DirHandle): Promise<void> {
    if (h === this.rootHandle || !this.open.delete(h.fh)) return;
    await h.fh.close();
  }

  async close(): Promise<void> {
    for (const fh of this.open) await fh.close().catch(() => undefined);
    this.open.clear();
    this.rootHandle = undefined;
  }

  /** The mount whose destination is exactly cpath. */
  mountAt(cpath: string): ViewMount | undefined {
    return this.view.mounts.get(cpath);
  }

  /** The innermost mount holding cpath (undefined: the rootfs). */
  mountOf(cpath: string): ViewMount | undefined {
    let best: ViewMount | undefined;
    for (const m of this.view.mounts.values()) {
      if ((cpath === m.destination || cpath.startsWith(`${m.destination}/`)) && (!best || m.destination.length > best.destination.length)) best = m;
    }
    return best;
  }

  /**
   * Opens child directory `name` of dir (its mount's source when a volume is mounted there). ELOOP or
   * ENOTDIR when it is not (or no longer) a real directory.
   */
  async openChild(dir: DirHandle, name: string): Promise<DirHandle> {
    const cpath = path.posix.join(dir.cpath, name);
    const m = this.mountAt(cpath);
    const fh = await this.track(m ? fs.open(m.source, fsc.O_RDONLY | fsc.O_DIRECTORY) : fs.open(fdPath(dir.fh, name), O_DIR));
    return { fh, cpath, mount: m ?? dir.mount };
  }

  /**
   * Resolves container path p with every symlink followed inside the container (the last component
   * too when followFinal). A missing last component gives an entry without st; a missing or
   * non-directory intermediate one is NotFound (missingOk: an entry naming where the path would be).
   */
  async resolve(p: string, followFinal: boolean, o: { missingOk?: boolean } = {}): Promise<Resolved> {
    const root = await this.root();
    let stack: DirHandle[] = [root];
    let pending = p.split('/').filter((c) => c !== '' && c !== '.');
    let links = 0;
    const top = () => stack[stack.length - 1]!;
    const unwind = async (keep: number) => {
      for (const h of stack.splice(keep)) await this.release(h);
    };
    while (pending.length > 0) {
      const c = pending.shift()!;
      if (c === '..') {
        if (stack.length > 1) await unwind(stack.length - 1);
        continue;
      }
      const last = pending.length === 0;
      const dir = top();
      const cpath = path.posix.join(dir.cpath, c);
      if (last && !followFinal && !this.mountAt(cpath)) {
        const st = await fs.lstat(fdPath(dir.fh, c)).catch((e: unknown) => (errno(e) === 'ENOENT' ? undefined : Promise.reject(e)));
        return { kind: 'entry', parent: dir, name: c, cpath, ...(st ? { st } : {}) };
      }
      if (this.mountAt(cpath)) {
        // A volume is mounted here in the container, whatever the rootfs has underneath.
        stack.push(await this.openChild(dir, c));
        continue;
      }
      let st: Stats | undefined;
      try {
        st = await fs.lstat(fdPath(dir.fh, c));
      } catch (e) {
        if (errno(e) !== 'ENOENT') throw e;
      }
      if (!st) {
        if (last) return { kind: 'entry', parent: dir, name: c, cpath };
        // Where the path would be (a symlink's target for the stat header, as dockerd's FollowSymlinkInScope).
        if (o.missingOk) return { kind: 'entry', parent: dir, name: c, cpath: path.posix.join(cpath, ...pending) };
        throw new RuntimeError('NotFound', `${cpath}: no such file or directory`);
      }
      if (st.isSymbolicLink()) {
        if (++links > MAX_LINKS) throw new RuntimeError('InvalidArgument', `${p}: too many levels of symbolic links`);
        const target = await fs.readlink(fdPath(dir.fh, c));
        if (target.startsWith('/')) await unwind(1);
        pending = [...target.split('/').filter((x) => x !== '' && x !== '.'), ...pending];
        continue;
      }
      if (st.isDirectory()) {
        try {
          stack.push(await this.openChild(dir, c));
        } catch (e) {
          // Swapped for something else since the lstat: look again.
          if (errno(e) === 'ELOOP' || errno(e) === 'ENOTDIR') {
            pending.unshift(c);
            continue;
          }
          throw e;
        }
        continue;
      }
      if (last) return { kind: 'entry', parent: dir, name: c, cpath, st };
      throw new RuntimeError('NotFound', `${cpath}: not a directory`);
    }
    const d = top();
    return { kind: 'dir', dir: d, cpath: d.cpath };
  }
}

function mountsOf(rec: ContainerRecord): Map<string, ViewMount> {
  const out = new Map<string, ViewMount>();
  for (const m of rec.MountPoints) {
    if ((m.Type !== 'volume' && m.Type !== 'bind') || !m.Source) continue;
    const dest = cleanPath(m.Destination);
    out.set(dest, { destination: dest, source: m.Source, rw: m.RW });
  }
  return out;
}

async function isMounted(dir: string): Promise<boolean> {
  const mi = await fs.readFile('/proc/self/mountinfo', 'utf8');
  return mi.split('\n').some((l) => l.split(' ')[4] === dir);
}

function viewsDir(execRoot: string): string {
  return path.join(execRoot, 'archive');
}

/**
 * What a daemon killed in the middle of a copy left: views still mounted under the exec root
 * (unmounted and removed) and containers it had frozen (thawed: restore took them for paused).
 * Runs after restoreContainers.
 */
export async function cleanupViews(e: Engine): Promise<void> {
  const dir = viewsDir(e.d.config.execRoot);
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const p = path.join(dir, n);
    const frozen = /^([a-f0-9]{64})\.frozen$/.exec(n);
    if (!frozen) {
      await unmountAll(p);
      await fs.rmdir(p);
      continue;
    }
    const rec = e.d.store.get(frozen[1]!);
    const conn = rec ? e.live(rec.ID).conn : undefined;
    if (rec && conn && rec.State.Paused) {
      await task.resume(conn, rec.ID);
      Object.assign(rec.State, { Status: 'running', Paused: false });
      await e.d.store.save(rec);
    }
    await fs.rm(p, { force: true });
  }
}

export type ViewOptions = {
  /** Freeze a running container meanwhile (not when it is paused already). */
  pause: boolean;
  /** Leave volumes and binds out (docker export). */
  noMounts?: boolean;
};

/**
 * Runs fn with the filesystem of container rec, under the container's lock (no start, stop or
 * removal meanwhile). A stopped container's snapshot is mounted under the exec root for the time
 * of fn and unmounted after, whatever happens.
 */
export async function withContainerView<T>(e: Engine, rec: ContainerRecord, o: ViewOptions, fn: (v: ViewFs, rec: ContainerRecord) => Promise<T>): Promise<T> {
  return e.lock.run(rec.ID, async () => {
    if (rec.State.Status === 'removing' || rec.State.Dead) throw new RuntimeError('FailedPrecondition', `container ${rec.ID} is marked for removal`);
    const mounts = o.noMounts ? new Map<string, ViewMount>() : mountsOf(rec);
    const live = e.live(rec.ID);
    const running = rec.State.Running && !!live.conn && (await isMounted(e.rootfsDir(rec.ID)));
    let root = e.rootfsDir(rec.ID);
    let tmp: string | undefined;
    let paused = false;
    const frozenMarker = path.join(viewsDir(e.d.config.execRoot), `${rec.ID}.frozen`);
    try {
      if (!running) {
        tmp = path.join(viewsDir(e.d.config.execRoot), `${rec.ID.slice(0, 12)}-${randomBytes(4).toString('hex')}`);
        await fs.mkdir(tmp, { recursive: true, mode: 0o700 });
        await mountAll(await e.d.snapshotter.mounts(rec.SnapshotKey), tmp);
        root = tmp;
      } else if (o.pause && !rec.State.Paused) {
        // A marker, so that a daemon killed meanwhile thaws the container when it comes back.
        await fs.mkdir(viewsDir(e.d.config.execRoot), { recursive: true, mode: 0o700 });
        await fs.writeFile(frozenMarker, '');
        await task.pause(live.conn!, rec.ID);
        paused = true;
      }
      const v = new ViewFs({ root, mounts, readonlyRootfs: !!rec.HostConfig.ReadonlyRootfs });
      try {
        return await fn(v, rec);
      } finally {
        await v.close();
      }
    } finally {
      if (paused) {
        await task.resume(live.conn!, rec.ID).catch((err) => e.d.log.warn({ id: rec.ID, err: String(err) }, 'resume after copy'));
        await fs.rm(frozenMarker, { force: true });
      }
      if (tmp) {
        await unmountAll(tmp).catch((err) => e.d.log.warn({ id: rec.ID, err: String(err) }, 'unmount copy view'));
        await fs.rmdir(tmp).catch(() => undefined);
      }
    }
  });
}
