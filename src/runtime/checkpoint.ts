// The checkpoint and restore verbs: runc's checks and defaults around a CRIU dump or restore of a
// container (image paths, descriptors.json, external bind mounts, cgroups), then the state record.
// CRIU itself runs through criu.ts; what a failure says is CRIU's own last error line.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Spec } from '../../spec/types/runtime';
import { errors, RuntimeError } from '../errors/index';
import { loadBundle } from '../oci/bundle';
import { parseMountinfo } from '../util/mountinfo';
import { Rollback } from '../util/rollback';
import { cgroupV1MountSources, createResources, newCgroupManager } from './cgroups';
import { nsProcName, writePidFile, type ContainerRuntime } from './container';
import { criuVersion, dumpArgs, emptyNamespaces, findCriu, restoreArgs, runCriu, checkManageCgroupsMode, parsePageServer, type CriuOptions } from './criu';
import { readProcStat } from './proc';
import type { StateRecord } from './state';
import { waitExitStatus } from './wait';

/** The flags checkpoint and restore share (runc's criuOptions). */
export type CriuFlags = {
  /** --criu: the binary */
  criu: string;
  imagePath?: string;
  workPath?: string;
  parentPath?: string;
  leaveRunning?: boolean;
  tcpEstablished?: boolean;
  extUnixSk?: boolean;
  shellJob?: boolean;
  fileLocks?: boolean;
  preDump?: boolean;
  autoDedup?: boolean;
  lazyPages?: boolean;
  statusFd?: number;
  pageServer?: string;
  manageCgroupsMode?: string;
  emptyNs?: string[];
  lsmProfile?: string;
  lsmMountContext?: string;
};

export type RestoreFlags = CriuFlags & {
  bundle: string;
  consoleSocket?: string;
  detach?: boolean;
  pidFile?: string;
  subreaper?: boolean;
};

/** runc's prepareImagePaths and criuOptions: the image directory (default ./checkpoint) exists afterwards. */
export function criuOptions(f: CriuFlags): CriuOptions {
  const imagesDir = path.resolve(f.imagePath || 'checkpoint');
  fs.mkdirSync(imagesDir, { recursive: true, mode: 0o700 });
  if (f.parentPath) {
    if (path.isAbsolute(f.parentPath)) throw errors.invalid('--parent-path must be relative');
    const real = path.join(imagesDir, f.parentPath);
    let st: fs.Stats;
    try {
      st = fs.statSync(real);
    } catch (e) {
      throw errors.invalid(`invalid --parent-path: stat ${real}: ${(e as NodeJS.ErrnoException).code}`);
    }
    if (!st.isDirectory()) throw errors.invalid(`invalid --parent-path: ${real}: not a directory`);
  }
  checkManageCgroupsMode(f.manageCgroupsMode);
  const workDir = f.workPath ? path.resolve(f.workPath) : imagesDir;
  fs.mkdirSync(workDir, { recursive: true, mode: 0o700 });
  return {
    imagesDir,
    workDir,
    ...(f.parentPath ? { parentPath: f.parentPath } : {}),
    leaveRunning: f.leaveRunning ?? false,
    tcpEstablished: f.tcpEstablished ?? false,
    extUnixSk: f.extUnixSk ?? false,
    shellJob: f.shellJob ?? false,
    fileLocks: f.fileLocks ?? false,
    preDump: f.preDump ?? false,
    autoDedup: f.autoDedup ?? false,
    lazyPages: f.lazyPages ?? false,
    ...(f.statusFd !== undefined ? { statusFd: f.statusFd } : {}),
    ...(f.pageServer ? { pageServer: parsePageServer(f.pageServer) } : {}),
    ...(f.manageCgroupsMode ? { manageCgroupsMode: f.manageCgroupsMode } : {}),
    emptyNs: emptyNamespaces(f.emptyNs ?? []),
    ...(f.lsmProfile ? { lsmProfile: f.lsmProfile } : {}),
    ...(f.lsmMountContext ? { lsmMountContext: f.lsmMountContext } : {}),
  };
}

/** The config's bind mounts, sources resolved against the bundle (CRIU treats them as external). */
function bindMounts(spec: Spec, bundle: string): { destination: string; source: string }[] {
  return (spec.mounts ?? [])
    .filter((m) => m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind'))
    .map((m) => ({ destination: path.posix.normalize(m.destination), source: path.resolve(bundle, m.source ?? '') }));
}

/** Mounts in the running container that come from the host and are not in the config: the v1
 * cgroup hierarchies bound under its cgroup mount and masked files (bound from /dev/null). */
function hostMounts(pid: number, spec: Spec): { destination: string; source: string }[] {
  const out: { destination: string; source: string }[] = [];
  let mounts: ReturnType<typeof parseMountinfo> = [];
  try {
    mounts = parseMountinfo(fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8'));
  } catch {
    return out;
  }
  for (const m of mounts) if (m.fsType === 'cgroup') out.push({ destination: m.mountPoint, source: m.mountPoint });
  for (const p of spec.linux?.maskedPaths ?? []) {
    try {
      if (fs.statSync(`/proc/${pid}/root${p}`).isFile()) out.push({ destination: p, source: '/dev/null' });
    } catch {
      /* not there: nothing masked */
    }
  }
  return out;
}

/** The host mounts of hostMounts() as the restored container gets them: its own new cgroups (v1
 * hierarchies bound under its cgroup mount) and /dev/null for masked files. */
function restoredHostMounts(spec: Spec, rootfs: string, cgroupPaths: Record<string, string>): { destination: string; source: string }[] {
  const out: { destination: string; source: string }[] = [];
  const cgroupMount = (spec.mounts ?? []).find((m) => m.type === 'cgroup');
  if (cgroupMount && !('' in cgroupPaths)) {
    for (const h of cgroupV1MountSources(cgroupPaths)) out.push({ destination: path.posix.join(cgroupMount.destination, h.name), source: h.source });
  }
  for (const p of spec.linux?.maskedPaths ?? []) {
    try {
      if (fs.statSync(path.join(rootfs, p)).isFile()) out.push({ destination: p, source: '/dev/null' });
    } catch {
      /* not in the image's rootfs: the dump has no such mount either */
    }
  }
  return out;
}

/** `checkpoint`: dumps a running (or paused) container with CRIU; it is gone afterwards unless
 * --leave-running or --pre-dump. A CRIU failure leaves it as it was. */
export async function checkpointContainer(rt: ContainerRuntime, id: string, f: CriuFlags): Promise<void> {
  const log = rt.cfg.log.child({ id });
  if (rt.cfg.rootless) log.warn('checkpoint is untested with rootless containers');
  const rec = rt.store.read(id);
  const status = rt.status(rec);
  if (status === 'created' || status === 'stopped') throw new RuntimeError('FailedPrecondition', `Container cannot be checkpointed in ${status} state`);
  const o = criuOptions(f);
  const bin = findCriu(f.criu);
  criuVersion(bin);
  // What the init's stdio were, so that restore can hand its own in their place (runc's format).
  const fds = [0, 1, 2].map((n) => {
    try {
      return fs.readlinkSync(`/proc/${rec.pid}/fd/${n}`);
    } catch {
      return '/dev/null';
    }
  });
  fs.writeFileSync(path.join(o.imagesDir, 'descriptors.json'), JSON.stringify(fds), { mode: 0o600 });
  const netns = (rec.config.linux?.namespaces ?? []).find((n) => n.type === 'network' && n.path);
  const args = dumpArgs(o, {
    pid: rec.pid,
    root: rec.rootfs,
    binds: [...bindMounts(rec.config, rec.bundle), ...hostMounts(rec.pid, rec.config)],
    ...(rec.cgroupPaths?.freezer ? { freezer: rec.cgroupPaths.freezer } : {}),
    ...(netns ? { externalNetNs: String(fs.statSync(`/proc/${rec.pid}/ns/net`).ino) } : {}),
  });
  log.debug({ criu: bin, images: o.imagesDir }, 'criu dump');
  runCriu(bin, args, path.join(o.workDir, 'dump.log'));
  if (!o.leaveRunning && !o.preDump) await rt.delete(id, true);
}

/** descriptors.json of a checkpoint: the init's stdio as they were. */
function readDescriptors(imagesDir: string): string[] {
  const file = path.join(imagesDir, 'descriptors.json');
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as string[];
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new RuntimeError(code === 'ENOENT' ? 'NotFound' : 'InvalidArgument', `open ${file}: ${code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
  }
}

/**
 * `restore`: a new container from a bundle and CRIU images. Its cgroups are made first (CRIU puts
 * the tasks below them), the rootfs is bound on a private mount point for CRIU's --root, and the
 * restored init's stdio pipes are replaced by ours. Foreground: waits and returns its status.
 */
export async function restoreContainer(rt: ContainerRuntime, id: string, f: RestoreFlags): Promise<number> {
  const log = rt.cfg.log.child({ id });
  if (rt.cfg.rootless) log.warn('checkpoint is untested with rootless containers');
  const o = criuOptions(f);
  const { bundle, spec, rootfs } = loadBundle(f.bundle, { systemdCgroup: rt.cfg.systemdCgroup, warn: (m: string) => log.warn(m) });
  if (spec.process?.terminal) throw errors.notImplemented('restore: a container with a terminal cannot be restored by keel (CRIU hands its pty master over RPC only)');
  const descriptors = readDescriptors(o.imagesDir);
  const bin = findCriu(f.criu);
  criuVersion(bin);
  if (!f.detach && f.subreaper !== false) rt.cfg.sys.setChildSubreaper(true);
  const rb = new Rollback();
  const dir = rt.store.create(id);
  rb.push('remove state dir', () => rt.store.remove(id));
  const unlock = rt.store.lock(id);
  const cg = await newCgroupManager(id, spec, { systemd: rt.cfg.systemdCgroup, rootless: rt.cfg.rootless });
  let pid = 0;
  let cgroupMade = false;
  try {
    rt.store.writePending(id, { cgroupPaths: cg.paths(), rootless: rt.cfg.rootless });
    await cg.create();
    cgroupMade = true;
    await cg.set(createResources(spec));
    const criuRoot = path.join(dir, 'criu-root');
    fs.mkdirSync(criuRoot, { mode: 0o755 });
    const pidFile = path.join(dir, 'restore.pid');
    const args = restoreArgs(o, {
      pid: 0,
      root: criuRoot,
      binds: [...bindMounts(spec, bundle), ...restoredHostMounts(spec, rootfs, cg.paths())],
      cgroupRoots: cg.paths(),
      inheritFds: descriptors.flatMap((d, fd) => (d.startsWith('pipe:') ? [{ fd, key: d }] : [])),
    }, pidFile);
    // CRIU needs --root to be a mount point: bind the rootfs in a private mount namespace of its
    // own, so nothing is left mounted here whatever happens (runc binds it in its own and unmounts).
    const wrapper = ['-m', '--propagation', 'private', '--', 'sh', '-c', 'mount --rbind "$1" "$2" && shift 2 && exec "$@"', 'sh', rootfs, criuRoot, bin, ...args];
    log.debug({ criu: bin, images: o.imagesDir }, 'criu restore');
    runCriuIn('unshare', wrapper, path.join(o.workDir, 'restore.log'));
    pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) throw errors.internal(`criu restore: no pid in ${pidFile}`);
    const rec: StateRecord = {
      id,
      ociVersion: spec.ociVersion,
      bundle,
      rootfs,
      pid,
      pidStart: readProcStat(pid)?.startTime ?? 0,
      created: new Date().toISOString(),
      config: spec,
      rootless: rt.cfg.rootless,
      systemdCgroup: rt.cfg.systemdCgroup,
      ownerUid: process.geteuid?.() ?? 0,
      cgroupPaths: cg.paths(),
      namespacePaths: Object.fromEntries((spec.linux?.namespaces ?? []).map((ns) => [ns.type, ns.path ?? `/proc/${pid}/ns/${nsProcName(ns.type)}`])),
    };
    if (spec.annotations) rec.annotations = spec.annotations;
    rb.push('kill restored init', () => rt.killAndWait(pid));
    rt.store.write(rec);
    if (f.pidFile) writePidFile(f.pidFile, pid);
    rb.commit();
    rt.store.clearPending(id);
  } catch (e) {
    rb.run((m) => log.warn(m));
    if (cgroupMade) await cg.destroy().catch((d: Error) => log.warn(`rollback destroy cgroup: ${d.message}`));
    throw e;
  } finally {
    unlock();
  }
  if (f.detach) return 0;
  try {
    return await waitExitStatus(rt.cfg.sys, pid);
  } finally {
    await rt.delete(id, true);
  }
}

/** runCriu through a wrapper command (unshare); the error is still CRIU's. */
function runCriuIn(wrapper: string, args: string[], logFile: string): void {
  const probe = spawnSync(wrapper, ['--version'], { stdio: 'ignore' });
  if (probe.error) throw new RuntimeError('Unavailable', `restore: ${wrapper}: ${(probe.error as NodeJS.ErrnoException).code}`);
  runCriu(wrapper, args, logFile, ['inherit', 'inherit', 'inherit']);
}
