// HOME for a process whose env lacks it, from the container's own /etc/passwd, as runc sets it.
// The file is inside the (attacker-controlled) rootfs: no symlink is followed on the way to it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Process } from '../../spec/types/runtime';

/** Reads <root>/etc/passwd without following symlinks at etc/ or passwd; undefined when absent. */
function readPasswd(root: string): string | undefined {
  try {
    if (fs.lstatSync(path.join(root, 'etc')).isSymbolicLink()) return undefined;
    const fd = fs.openSync(path.join(root, 'etc', 'passwd'), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    try {
      if (!fs.fstatSync(fd).isFile()) return undefined;
      return fs.readFileSync(fd, 'utf8').slice(0, 1 << 20);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/** The home directory of uid in passwd text, or "/" as runc falls back to. */
export function homeOf(passwd: string | undefined, uid: number): string {
  for (const line of (passwd ?? '').split('\n')) {
    const f = line.split(':');
    if (f.length >= 6 && Number(f[2]) === uid && f[2] !== '') return f[5] || '/';
  }
  return '/';
}

/** Returns process with HOME added to its env when it has none (the spec object is not changed). */
export function withHome(proc: Process, root: string): Process {
  const env = proc.env ?? [];
  if (env.some((e) => e.startsWith('HOME='))) return proc;
  return { ...proc, env: [...env, `HOME=${homeOf(readPasswd(root), proc.user?.uid ?? 0)}`] };
}
