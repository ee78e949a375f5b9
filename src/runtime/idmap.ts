// Parent side of id-mapped mounts: for every plan mount with an idmap, a detached clone of its source
// with MOUNT_ATTR_IDMAP set, whose fd the child inherits and attaches (rt_mount.tree_fd). Done here
// because mount_setattr(MOUNT_ATTR_IDMAP) needs CAP_SYS_ADMIN over the source's superblock (the
// host's user namespace), which the child lacks once in its own (runc mountFd, crun
// maybe_get_idmapped_mount do the same). Plain binds of a user-namespaced container get a clone as
// a fallback the same way. Nothing outlives the call but the returned tree fds.
import * as fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { LinuxIDMapping } from '../../spec/types/runtime';
import { wrap } from '../errors/index';
import type { Logger } from '../log/index';
import { P_PIDFD, type Sys } from '../native/index';
import { MOUNT_ATTR, MS, OPEN_TREE } from './plan/constants';
import type { InitPlan, PlanIdmap } from './plan/types';
import { mapText } from './userns-maps';

export type IdmapTrees = {
  /** The plan with treeFd set on every id-mapped mount. */
  plan: InitPlan;
  /** Closes the tree fds (after the clone, the child holds its own copies). Idempotent. */
  close(): void;
};

const EINVAL = osConstants.errno.EINVAL;

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    /* already closed */
  }
}

/**
 * An fd of a user namespace with the given maps: a holder process is cloned into a new user
 * namespace, its maps written, its ns/user opened, then it is killed and reaped (runc
 * internal/userns.Handles). The namespace lives on through the fd.
 */
export function usernsFdFor(sys: Sys, uidMappings: LinuxIDMapping[], gidMappings: LinuxIDMapping[]): number {
  const h = sys.spawnUsernsHolder();
  try {
    fs.writeFileSync(`/proc/${h.pid}/uid_map`, mapText(uidMappings));
    fs.writeFileSync(`/proc/${h.pid}/setgroups`, 'deny');
    fs.writeFileSync(`/proc/${h.pid}/gid_map`, mapText(gidMappings));
    return fs.openSync(`/proc/${h.pid}/ns/user`, fs.constants.O_RDONLY);
  } finally {
    try {
      sys.pidfdSendSignal(h.pidfd, osConstants.signals.SIGKILL);
    } catch {
      /* gone already */
    }
    try {
      sys.waitid(P_PIDFD, h.pidfd, 0);
    } finally {
      closeQuietly(h.pidfd);
    }
  }
}

function usernsKey(idmap: PlanIdmap): string {
  return idmap.usernsPath ?? JSON.stringify([idmap.uidMappings, idmap.gidMappings]);
}

/**
 * Makes the detached id-mapped trees of a plan. With cloneBinds (a root runtime and a user
 * namespace), every other bind gets a plain clone of its source too, which the child attaches only
 * if the container's root cannot reach the source path (runc's mount sources, opened by the parent).
 * On failure nothing is left open and no holder process is left; the error names the mount.
 */
export function prepareIdmapTrees(plan: InitPlan, sys: Sys, log: Logger, cloneBinds = false): IdmapTrees {
  const trees: number[] = [];
  const userns = new Map<string, number>();
  const close = () => {
    for (const fd of trees.splice(0)) closeQuietly(fd);
  };
  try {
    const mounts = plan.mounts.map((m) => {
      const what = `mount ${m.source} on ${m.destination}`;
      if (!m.idmap) {
        if (!cloneBinds || m.kind !== 'bind') return m;
        let tree: number;
        try {
          tree = sys.openTree(m.source, OPEN_TREE.CLONE | OPEN_TREE.CLOEXEC | (m.flags & MS.REC ? OPEN_TREE.AT_RECURSIVE : 0));
        } catch (e) {
          throw wrap(e, what);
        }
        trees.push(tree);
        return { ...m, treeFd: tree, treeFallback: true };
      }
      let setattrErr = false;
      try {
        const key = usernsKey(m.idmap);
        let ns = userns.get(key);
        if (ns === undefined) {
          ns = m.idmap.usernsPath
            ? fs.openSync(m.idmap.usernsPath, fs.constants.O_RDONLY)
            : usernsFdFor(sys, m.idmap.uidMappings, m.idmap.gidMappings);
          userns.set(key, ns);
        }
        const tree = sys.openTree(m.source, OPEN_TREE.CLONE | OPEN_TREE.CLOEXEC | (m.flags & MS.REC ? OPEN_TREE.AT_RECURSIVE : 0));
        trees.push(tree);
        setattrErr = true;
        sys.mountSetattr(tree, '', OPEN_TREE.AT_EMPTY_PATH | (m.idmap.recursive ? OPEN_TREE.AT_RECURSIVE : 0), MOUNT_ATTR.IDMAP, 0, ns);
        setattrErr = false;
        log.debug({ destination: m.destination, recursive: m.idmap.recursive }, 'id-mapped tree prepared');
        return { ...m, treeFd: tree };
      } catch (e) {
        const err = wrap(e, what);
        // EINVAL is what a filesystem without FS_ALLOW_IDMAP answers (mount_setattr(2)).
        if (setattrErr && (e as { errno?: number }).errno === -EINVAL) err.message += ' (the filesystem may not support id-mapped mounts)';
        throw err;
      }
    });
    return { plan: { ...plan, mounts }, close };
  } catch (e) {
    close();
    throw e;
  } finally {
    for (const fd of userns.values()) closeQuietly(fd);
  }
}
