// Mounts CreateTaskRequest.rootfs onto <bundle>/rootfs and unmounts it on delete, as containerd's
// mount.All / UnmountAll do for the runc shim. Option words that are mount flags become flags;
// the rest (lowerdir=…, upperdir=…) is the data string.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ShimSys } from '../native/index';

export type Mount = { type: string; source: string; target: string; options: string[] };

const MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8, MS_SYNCHRONOUS = 16, MS_REMOUNT = 32;
const MS_NOATIME = 1024, MS_NODIRATIME = 2048, MS_BIND = 4096, MS_REC = 16384, MS_RELATIME = 1 << 21, MS_STRICTATIME = 1 << 24;
const MNT_DETACH = 2;

const setFlags: Record<string, number> = {
  ro: MS_RDONLY, nosuid: MS_NOSUID, nodev: MS_NODEV, noexec: MS_NOEXEC, sync: MS_SYNCHRONOUS, remount: MS_REMOUNT,
  noatime: MS_NOATIME, nodiratime: MS_NODIRATIME, bind: MS_BIND, rbind: MS_BIND | MS_REC, relatime: MS_RELATIME, strictatime: MS_STRICTATIME,
};
const clearWords = new Set(['rw', 'suid', 'dev', 'exec', 'async', 'atime', 'diratime', 'defaults']);

/** Splits mount options into flags and the data string. */
export function parseMountOptions(options: string[]): { flags: number; data: string } {
  let flags = 0;
  const data: string[] = [];
  for (const o of options) {
    if (o in setFlags) flags |= setFlags[o]!;
    else if (!clearWords.has(o)) data.push(o);
  }
  return { flags, data: data.join(',') };
}

/** Mounts every entry on target in order; on failure unmounts what was mounted and rethrows. */
export function mountAll(sys: Pick<ShimSys, 'mount' | 'umount2'>, mounts: Mount[], target: string): void {
  fs.mkdirSync(target, { recursive: true });
  let done = 0;
  try {
    for (const m of mounts) {
      const { flags, data } = parseMountOptions(m.options);
      const type = m.type === 'bind' ? 'none' : m.type;
      sys.mount(m.source, m.target ? path.join(target, m.target) : target, type, flags, data);
      done++;
    }
  } catch (e) {
    for (let i = 0; i < done; i++) unmountAll(sys, target);
    throw e;
  }
}

/** Unmounts everything stacked on target (lazily, like UnmountAll with MNT_DETACH). */
export function unmountAll(sys: Pick<ShimSys, 'umount2'>, target: string): void {
  for (let i = 0; i < 16; i++) {
    try {
      sys.umount2(target, MNT_DETACH);
    } catch {
      return; // EINVAL: nothing (more) mounted there
    }
  }
}
