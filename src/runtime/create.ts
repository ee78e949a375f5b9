// The create verb's sequence: load and check the bundle, make the state dir and exec fifo, launch
// the init through launch.ts (running prestart/createRuntime hooks when it asks), record the state
// and the pid file. Every step registers its undo, so a failure leaves nothing behind.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntimeError } from '../errors/index';
import { loadBundle } from '../oci/bundle';
import { Rollback } from '../util/rollback';
import { mountsUnder, unmountUnder } from './shared-mounts';
import type { CgroupManager } from '../cgroups/index';
import type { Logger } from '../log/index';
import { createResources, isFrozenSync, joinCgroupsSync, newCgroupManager } from './cgroups';
import { nsProcName, writePidFile, type ContainerRuntime } from './container';
import { runHooks } from './hooks';
import { launchInit } from './launch';
import { checkLsmRequests, hostLsm } from './lsm';
import { withHome } from './passwd';
import { readProcStat } from './proc';
import { execFifoName, type StateRecord } from './state';

export type CreateOptions = {
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  preserveFds?: number;
  /** fds to become the init's 0, 1, 2 (default: inherit ours, as runc); the shim passes its fifos. */
  stdio?: [number, number, number];
  /** Foreground run with a terminal and no console socket: receives the pty master. */
  onPty?: (masterFd: number) => void;
  /** process.consoleSize to use when the config has none (the caller's terminal). */
  consoleSize?: { height: number; width: number };
};

/** `create`: everything up to the exec fifo; the init is left blocked there. */
export async function createContainer(rt: ContainerRuntime, id: string, opts: CreateOptions): Promise<StateRecord> {
  const log = rt.cfg.log.child({ id });
  const dirCheck = rt.store.dir(id);
  const { bundle, spec, rootfs } = loadBundle(opts.bundle, { systemdCgroup: rt.cfg.systemdCgroup, warn: (m: string) => log.warn(m) });
  if (fs.existsSync(dirCheck)) throw new RuntimeError('AlreadyExists', 'container with given ID already exists');
  checkLsmRequests(spec.process, spec, hostLsm());
  log.debug({ bundle }, 'bundle loaded');
  const rb = new Rollback();
  const dir = rt.store.create(id);
  rb.push('remove state dir', () => rt.store.remove(id));
  const unlock = rt.store.lock(id);
  const cg = await newCgroupManager(id, spec, { systemd: rt.cfg.systemdCgroup, rootless: rt.cfg.rootless }).catch((e) => {
    unlock();
    rb.run((m) => log.warn(m));
    throw e;
  });
  let cgroupMade = false;
  try {
    await checkExistingCgroup(cg, log);
    const wanted = Object.keys(cg.paths());
    // Before anything exists: a create killed from here on leaves this for `delete` to go by.
    rt.store.writePending(id, { cgroupPaths: cg.paths(), rootless: rt.cfg.rootless });
    await cg.create();
    cgroupMade = true;
    if (rt.cfg.rootless) {
      // runc's fs manager drops a hierarchy it may not write when rootless; say which (a limit on
      // one of them still fails below, in cg.set, as runc's "container could not join or create cgroup").
      const skipped = wanted.filter((c) => !(c in cg.paths())).map((c) => c || 'unified');
      if (skipped.length) log.debug({ skipped: skipped.join(',') }, 'rootless: cgroups not writable by this user are skipped');
    }
    await cg.set(createResources(spec));
    log.debug({ cgroup: Object.values(cg.paths())[0] }, 'cgroup ready');
    const fifo = path.join(dir, execFifoName);
    rt.cfg.sys.mkfifo(fifo, 0o622);
    // As runc: exactly 0622 whatever the umask, owned by the container's root on the host, so a
    // non-root process or a user-namespaced init can open it for writing after dropping privileges.
    fs.chmodSync(fifo, 0o622);
    const hostRoot = hostIdOf(spec.linux?.uidMappings, 0);
    const hostRootGid = hostIdOf(spec.linux?.gidMappings, 0);
    if (hostRoot !== 0 || hostRootGid !== 0) {
      try {
        fs.chownSync(fifo, hostRoot, hostRootGid);
      } catch (e) {
        // An unprivileged runtime cannot give the fifo to a subordinate id (runc fails here). It
        // need not: the init opens the fifo O_PATH before it changes identity and reopens it
        // through that fd, which checks only the fifo's own mode, 0622.
        if ((e as NodeJS.ErrnoException).code !== 'EPERM' || (process.geteuid?.() ?? 0) === 0) throw e;
        log.debug({ uid: hostRoot, gid: hostRootGid }, 'exec fifo left to the runtime user: chown to the container root not permitted');
      }
    }
    const rec: StateRecord = {
      id,
      ociVersion: spec.ociVersion,
      bundle,
      rootfs,
      pid: 0,
      pidStart: 0,
      created: new Date().toISOString(),
      config: spec,
      rootless: rt.cfg.rootless,
      systemdCgroup: rt.cfg.systemdCgroup,
      ownerUid: process.geteuid?.() ?? 0,
      cgroupPaths: cg.paths(),
    };
    if (spec.annotations) rec.annotations = spec.annotations;
    if (!(spec.linux?.namespaces ?? []).some((n) => n.type === 'mount')) {
      // The container's mounts land in our own mount namespace, below the rootfs: undo them on failure.
      const before = mountsUnder(fs.realpathSync(rootfs)).map((m) => m.id);
      rec.sharedMounts = before;
      rb.push('unmount container mounts', () => void unmountUnder(rt.cfg.sys, rootfs, before));
    }
    // cgroup v2: clone3(CLONE_INTO_CGROUP) puts the init in its cgroup at birth (kernel 5.7+).
    const unified = cg.version === 'v2' ? cg.paths()[''] : undefined;
    let cgroupFd = unified ? fs.openSync(unified, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY) : -1;
    const closeCgroupFd = () => {
      if (cgroupFd >= 0) fs.closeSync(cgroupFd);
      cgroupFd = -1;
    };
    rb.push('close cgroup fd', closeCgroupFd);
    const launched = launchInit({
      id,
      spec: spec.process ? { ...spec, process: withHome({ ...spec.process, ...(opts.consoleSize && spec.process.terminal && !spec.process.consoleSize ? { consoleSize: opts.consoleSize } : {}) }, rootfs) } : spec,
      ...(opts.onPty ? { onPty: opts.onPty } : {}),
      bundle,
      rootfs,
      execFifo: fifo,
      consoleSocket: opts.consoleSocket,
      stdio: opts.stdio,
      preserveFds: opts.preserveFds ?? 0,
      noPivot: opts.noPivot ?? false,
      noNewKeyring: opts.noNewKeyring ?? false,
      log,
      ...(cgroupFd >= 0 ? { cgroupFd } : {}),
      cgroupPaths: rec.cgroupPaths!,
      onCgroup: (childPid: number) => joinCgroupsSync(rec.cgroupPaths!, childPid, rt.cfg.rootless),
      onCreateRuntime: (childPid: number) => {
        rec.pid = childPid;
        const state = rt.hookState(rec, 'creating');
        runHooks('prestart', spec.hooks, state, log);
        runHooks('createRuntime', spec.hooks, state, log);
        runHooks('createContainer', spec.hooks, state, log, false, { pid: childPid, containerRoot: false, wdns: rootfs });
      },
    });
    const { pid } = launched;
    closeCgroupFd();
    rb.push('kill init', () => {
      launched.abort();
      rt.killAndWait(pid);
    });
    rec.pid = pid;
    rec.pidStart = readProcStat(pid)?.startTime ?? 0;
    rec.namespacePaths = Object.fromEntries(
      (spec.linux?.namespaces ?? []).map((ns) => [ns.type, ns.path ?? `/proc/${pid}/ns/${nsProcName(ns.type)}`]),
    );
    rt.store.write(rec);
    if (opts.pidFile) writePidFile(opts.pidFile, pid);
    launched.commit();
    rb.commit();
    rt.store.clearPending(id);
    log.debug({ pid }, 'container created');
    return rec;
  } catch (e) {
    rb.run((m) => log.warn(m));
    // runtime-spec runtime.md: a failed create continues the lifecycle at delete, poststop included.
    runHooks('poststop', spec.hooks, JSON.stringify({ ociVersion: spec.ociVersion, id, status: 'stopped', bundle, pid: 0, annotations: spec.annotations ?? {} }), log, true);
    if (cgroupMade) await cg.destroy().catch((d: Error) => log.warn(`rollback destroy cgroup: ${d.message}`));
    throw e;
  } finally {
    unlock();
  }
}

/**
 * runc's checks of a cgroup that exists before the create (libcontainer factory Create): processes
 * in it earn a warning; a frozen one is refused, since the init would join it and stop for good.
 */
async function checkExistingCgroup(cg: CgroupManager, log: Logger): Promise<void> {
  const paths = cg.paths();
  if (!Object.values(paths).some((p) => fs.existsSync(p))) return;
  const pids = await cg.pids().catch(() => [] as number[]);
  if (pids.length > 0) log.warn(`container's cgroup is not empty: ${pids.length} process(es) found`);
  if (isFrozenSync(paths)) throw new RuntimeError('FailedPrecondition', "container's cgroup unexpectedly frozen");
}

/** The host id a container id maps to (identity when there are no mappings). */
function hostIdOf(maps: { containerID: number; hostID: number; size: number }[] | undefined, id: number): number {
  if (!maps || maps.length === 0) return id;
  const m = maps.find((x) => id >= x.containerID && id < x.containerID + x.size);
  return m ? m.hostID + (id - m.containerID) : id;
}
