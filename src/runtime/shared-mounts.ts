// Mounts a container without a mount namespace of its own leaves in the runtime's: found in
// /proc/self/mountinfo below the rootfs and detached at delete (or when create fails). Mounts that
// were there before create (recorded by mount id) are the user's and stay.
import * as fs from 'node:fs';
import type { Sys } from '../native/index';

const MNT_DETACH = 2;

/** mountinfo escapes space, tab, newline and backslash as \ooo (proc_pid_mountinfo(5)). */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Mounts at or below `dir` in this process's mount namespace, in mountinfo order. */
export function mountsUnder(dir: string, mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8')): { id: number; path: string }[] {
  const base = dir.endsWith('/') && dir.length > 1 ? dir.slice(0, -1) : dir;
  const out: { id: number; path: string }[] = [];
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    if (f.length < 5) continue;
    const p = unescape(f[4]!);
    if (p === base || p.startsWith(base + '/')) out.push({ id: Number(f[0]), path: p });
  }
  return out;
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
