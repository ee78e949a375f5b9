// The container's rootfs as the daemon mounts it (<exec-root>/containers/<id>/rootfs), with
// mount(2) and umount2(2) directly (the shim's helpers): a mount(8) process per start and per exit
// cost more than the container's own start-up.
import * as fs from 'node:fs/promises';
import { realShimSys } from '../../native/index';
import { mountAll, unmountAll } from '../../shim/rootfs';
import type { Mount } from '../snapshots/index';

/** Whether something is mounted exactly on dir. */
export async function isMountPoint(dir: string): Promise<boolean> {
  const mi = await fs.readFile('/proc/self/mountinfo', 'utf8');
  return mi.split('\n').some((l) => l.split(' ')[4] === dir);
}

/** Mounts a snapshot's mounts on dir (made if missing) unless something is mounted there already. */
export async function mountSnapshot(mounts: Mount[], dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o711 });
  if (await isMountPoint(dir)) return;
  mountAll(realShimSys, mounts.map((m) => ({ type: m.type, source: m.source, target: '', options: m.options })), dir);
}

/** Detaches whatever is mounted on dir (nothing mounted is fine). */
export async function unmountDir(dir: string): Promise<void> {
  unmountAll(realShimSys, dir);
}
