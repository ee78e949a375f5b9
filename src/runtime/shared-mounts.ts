// Mounts a container without a mount namespace of its own leaves in the runtime's: found in
// /proc/self/mountinfo below the rootfs and detached at delete (or when create fails). Mounts that
// were there before create (recorded by mount id) are the user's and stay.
import * as fs from 'node:fs';
import type { Sys } from '../native/index';
import { parseMountinfo } from '../util/mountinfo';

const MNT_DETACH = 2;

/** Mounts at or below `dir` in this process's mount namespace, in mountinfo order. */
export function mountsUnder(dir: string, mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8')): { id: number; path: string }[] {
  const base = dir.endsWith('/') && dir.length > 1 ? dir.slice(0, -1) : dir;
  return parseMountinfo(mountinfo)
    .filter((m) => m.mountPoint === base || m.mountPoint.startsWith(base + '/'))
    .map((m) => ({ id: m.id, path: m.mountPoint }));
}

/** Detaches every mount below `dir` that is not in `keep`, deepest (and most recent) first.
 * Returns the paths detached; a mount already gone is not an error. */
export function unmountUnder(sys: Sys, dir: string, keep: readonly number[]): string[] {
  const kept = new Set(keep);
  const todo = mountsUnder(fs.realpathSync(dir))
    .filter((m) => !kept.has(m.id))
    .map((m, order) => ({ ...m, order, depth: m.path.split('/').length }))
    .sort((a, b) => b.depth - a.depth || b.order - a.order);
  const done: string[] = [];
  for (const m of todo) {
    try {
      sys.umount2(m.path, MNT_DETACH);
      done.push(m.path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EINVAL' && code !== 'ENOENT') throw e;
    }
  }
  return done;
}
