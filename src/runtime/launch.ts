// Parent side of the clone: compiles the plan, spawns the child through the addon and serves its
// sync requests (id maps, hooks, pty hand-off) until READY. Protocol: src/runtime/sync.ts.
// It never leaves a child behind on failure and never writes state; container.ts does that.
import * as fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { Process, Spec } from '../../spec/types/runtime';
import { ChildError, errors, RuntimeError, wrap } from '../errors/index';
import type { Logger } from '../log/index';
import { P_PIDFD, POLLIN, realSys, type Sys } from '../native/index';
import { cgroupV1MountSources } from './cgroups';
import { compilePlan, type HostFacts } from './plan/compile';
import { prepareIdmapTrees } from './idmap';
import { writeIdMaps } from './userns-maps';
import { compileSeccompRemembered } from './seccomp';
import { containerProcessState, sendSeccompListener } from './seccomp-agent';
import { compileJoinPlan } from './plan/join';
import { CAPABILITIES, MS } from './plan/constants';
import { parseMountinfo } from '../util/mountinfo';
import type { InitPlan } from './plan/types';
import { childErrnoText, decodeMsg, MSG_SIZE, MsgType, reply, Step, stepName } from './sync';

export type LaunchRequest = {
  id: string;
  /** validated config.json */
  spec: Spec;
  /** absolute bundle directory */
  bundle: string;
  /** absolute rootfs, from spec.root.path */
  rootfs: string;
  /** <state>/exec.fifo (mkfifo 0622 by the caller): the child blocks on it after READY until
   * `start` opens it for reading; null = exec at once. */
  execFifo: string | null;
  /** AF_UNIX path; the pty master is sent over it with SCM_RIGHTS (payload "/dev/ptmx"). */
  consoleSocket?: string;
  /** Foreground run/exec with a terminal and no console socket: receives the pty master (caller owns the fd). */
  onPty?: (masterFd: number) => void;
  /** extra fds after stdio passed through (LISTEN_FDS is added on top, as runc does) */
  preserveFds: number;
  /** MS_MOVE + chroot instead of pivot_root */
  noPivot: boolean;
  /** keep the caller's session keyring instead of joining a new "_ses.<id>" one */
  noNewKeyring: boolean;
  /** cgroup v2 directory fd for CLONE_INTO_CGROUP */
  cgroupFd?: number;
  /** The container's cgroup directories (controller → path), shown by a `cgroup` mount on v1 hosts. */
  cgroupPaths?: Record<string, string>;
  /** Called at the createRuntime point (namespaces and mounts ready, before pivot_root) with the
   * init's host pid; the caller runs prestart and createRuntime hooks. A throw aborts the create. */
  onCreateRuntime?: (pid: number) => void;
  /**
   * Called right after the clone, before the child touches any namespace, to put it in the
   * container's cgroups (cgroup v1, or v2 without CLONE_INTO_CGROUP); its new cgroup namespace
   * then has them as its root. An exception aborts the create.
   */
  onCgroup?: (pid: number) => void;
  log: Logger;
  /** fds to become the container's 0, 1, 2 (default: inherit the runtime's stdio, as runc). */
  stdio?: [number, number, number];
  /** system call seam (default realSys) */
  sys?: Sys;
  /** per-record wait for the child, ms (default 60 s) */
  timeoutMs?: number;
};

export type LaunchResult = {
  /** host pid of the container init */
  pid: number;
  /**
   * With an exec fifo: tells the init that the container is recorded (state.json, pid file), so it
   * stops dying with us and waits on the fifo. Until then a killed runtime takes the init with it.
   * A no-op without an exec fifo. Idempotent.
   */
  commit(): void;
  /** Drops the init's sync socket without commit: it exits (the caller kills it anyway). Idempotent. */
  abort(): void;
};

/** `exec`: one more process inside a running container (runc exec). */
export type JoinRequest = {
  id: string;
  /** host pid of the running container's init; its /proc/<pid>/ns/* are joined */
  initPid: number;
  /** the container's config (namespaces, root) */
  spec: Spec;
  /** the process to run (process.json of `exec`, or spec.process with overrides) */
  process: Process;
  bundle: string;
  consoleSocket?: string;
  onPty?: (masterFd: number) => void;
  preserveFds: number;
  /** container cgroup v2 directory fd (CLONE_INTO_CGROUP) */
  cgroupFd?: number;
  /** called with the final pid once the namespaces are joined, before anything runs: join cgroups here */
  onJoined?: (pid: number) => void;
  log: Logger;
  stdio?: [number, number, number];
  sys?: Sys;
  timeoutMs?: number;
};

const SIGKILL = osConstants.signals.SIGKILL;
const CLD_EXITED = 1;
const DEFAULT_TIMEOUT_MS = 60_000;

/** What compilePlan needs to know about this host, read once per launch. */
export function readHostFacts(): HostFacts {
  const exe = fs.statSync('/proc/self/exe', { bigint: true });
  let cgroup2 = false;
  try {
    cgroup2 = fs.statfsSync('/sys/fs/cgroup').type === 0x63677270;
  } catch {
    cgroup2 = false;
  }
  let capLast = CAPABILITIES.length - 1;
  try {
    capLast = Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
  } catch {
    /* older kernels: assume our table */
  }
  return { capLast, cgroup2, exeDev: exe.dev, exeIno: exe.ino, isRoot: process.geteuid?.() === 0 };
}

/** The object of a failed step, named from the plan (the child only reports indexes). */
export function describeStep(plan: InitPlan, step: number, item: number): string {
  const at = <T>(list: T[]): T | undefined => (item >= 0 ? list[item] : undefined);
  switch (step) {
    case Step.INIT:
      return plan.execFifo ? `prepare init (exec fifo ${plan.execFifo})` : 'prepare init';
    case Step.JOIN_NS: {
      const j = at(plan.joins);
      return j ? `join ${j.type} namespace ${j.path}` : 'join namespaces';
    }
    case Step.UNSHARE:
      return 'unshare namespaces';
    case Step.USERNS:
      return 'become root in the user namespace';
    case Step.FORK:
      return 'fork into the new pid namespace';
    case Step.SESSION:
      return item === 1 ? 'join session keyring' : 'setsid';
    case Step.ROOTFS:
      return item === 0 ? 'set propagation of /' : item === 2 ? `open rootfs ${plan.rootfs}` : `bind rootfs ${plan.rootfs}`;
    case Step.MOUNTS: {
      const m = at(plan.mounts);
      if (!m) return 'mount';
      if (m.treeFd !== undefined && !m.treeFallback) return `attach id-mapped ${m.source} on ${m.destination}`;
      if (m.copyUp) return `mount ${m.type} on ${m.destination} (tmpcopyup)`;
      return m.kind === 'bind' ? `mount ${m.source} on ${m.destination}` : `mount ${m.type} on ${m.destination}`;
    }
    case Step.DEVICES:
      return `create device ${at(plan.devices)?.path ?? ''}`.trim();
    case Step.SYMLINKS: {
      const s = at(plan.symlinks);
      return s ? `create symlink ${s.link}` : 'create symlink';
    }
    case Step.MKCWD:
      return `create cwd ${plan.cwd}`;
    case Step.HOOKS:
      return 'wait for createRuntime hooks';
    case Step.PIVOT:
      if (plan.sharedMountNs) return `chroot ${plan.rootfs}`;
      if (plan.noPivot && item === 6) return "detach the host's proc and sysfs mounts";
      return plan.noPivot ? `move rootfs ${plan.rootfs} to /` : `pivot_root ${plan.rootfs}`;
    case Step.PROPAGATION:
      return 'set rootfs propagation';
    case Step.CONSOLE:
      return (
        ['open /dev/ptmx', 'get pty peer', 'hand over pty master', 'mount /dev/console', 'set controlling terminal', 'dup console to stdio'][item] ??
        'set up console'
      );
    case Step.SYSCTL: {
      const s = at(plan.sysctls);
      return s ? `write sysctl ${s.key}` : 'write sysctl';
    }
    case Step.READONLY:
      return `make ${at(plan.readonly) ?? ''} read-only`;
    case Step.MASKED:
      return item < 0 ? 'open /dev/null for masking' : `mask ${at(plan.masked)}`;
    case Step.ROOT_RO:
      return item === 0 ? 'make /dev read-only' : 'make rootfs read-only';
    case Step.HOSTNAME:
      return item === 1 ? `set domainname ${plan.domainname}` : `set hostname ${plan.hostname}`;
    case Step.RLIMITS:
      return `set rlimit ${at(plan.rlimits)?.type ?? ''}`.trim();
    case Step.BOUNDING:
      return `drop ${CAPABILITIES[item] ?? `capability ${item}`} from the bounding set`;
    case Step.USER:
      return ['setgroups', `setresgid ${plan.gid}`, `setresuid ${plan.uid}`][item] ?? 'set user';
    case Step.CAPS:
      return item === 0 ? 'set capabilities' : 'set ambient capabilities';
    case Step.NNP:
      return 'set no_new_privs';
    case Step.CGROUP:
      return 'join cgroup';
    case Step.TIMENS:
      return (
        ['unshare time namespace', 'open timens_offsets', 'write linux.timeOffsets to timens_offsets', 'open time_for_children', 'enter time namespace'][item] ??
        'set up time namespace'
      );
    case Step.APPARMOR: {
      const file = item === 1 ? 'attr/exec' : 'attr/apparmor/exec';
      return item === 2 ? `apparmor profile ${JSON.stringify(plan.apparmorProfile)}` : `open /proc/thread-self/${file} for apparmor profile ${JSON.stringify(plan.apparmorProfile)}`;
    }
    case Step.SECCOMP:
      return 'install seccomp filter';
    case Step.CWD:
      return `chdir to cwd ${plan.cwd}`;
    case Step.FIFO:
      return 'wait on exec fifo';
    case Step.READY:
      return 'wait for the create to be recorded';
    case Step.EXEC:
      if (item < 0) {
        // runc's (Go exec.LookPath's) wording: a path is stat'ed, a bare name is searched in $PATH.
        const a = plan.args[0] ?? '';
        return a.includes('/') ? `exec: ${JSON.stringify(a)}: stat ${a}: no such file or directory` : `exec: ${JSON.stringify(a)}: executable file not found in $PATH`;
      }
      return `exec ${plan.execPaths[item]}`;
    default:
      return stepName(step);
  }
}

function describeExit(code: number, status: number): string {
  if (code === CLD_EXITED) return `exited with status ${status}`;
  const name = Object.entries(osConstants.signals).find(([, n]) => n === status)?.[0] ?? `signal ${status}`;
  return `killed by ${name}`;
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    /* already closed */
  }
}

/** errno of a missing file (the child reports positive errno values). */
const ENOENT = osConstants.errno.ENOENT;
const EACCES = osConstants.errno.EACCES;

/** The process the parent tracks: the direct child until an extra fork hands over to a grandchild. */
type Tracked = { pid: number; pidfd: number; isChild: boolean };

/** Kills the tracked process and waits until it is gone: reaped if it is our child, else until its
 * pidfd reports the exit (a grandchild is reaped by its new parent). */
function killAndReap(sys: Sys, t: Tracked): void {
  try {
    sys.pidfdSendSignal(t.pidfd, SIGKILL);
  } catch {
    /* already dead */
  }
  try {
    if (t.isChild) sys.waitid(P_PIDFD, t.pidfd, 0);
    else sys.poll(t.pidfd, POLLIN, 10_000);
  } catch {
    /* already reaped */
  }
}

/**
 * Clones the container init and drives it to READY. Returns once the init waits for commit() (then
 * for the exec fifo), or is about to exec when execFifo is null; throws ChildError/RuntimeError naming the step and path,
 * with the child killed and reaped.
 */
export function launchInit(req: LaunchRequest): LaunchResult {
  const host = readHostFacts();
  const listenFds = Number(process.env.LISTEN_FDS ?? 0) || 0;
  const plan = compilePlan(req.spec, {
    id: req.id,
    bundle: req.bundle,
    rootfs: req.rootfs,
    execFifo: req.execFifo,
    noPivot: req.noPivot,
    noNewKeyring: req.noNewKeyring,
    preserveFds: req.preserveFds,
    listenFds,
    host,
    ...(!host.cgroup2 && (req.spec.mounts ?? []).some((m) => m.type === 'cgroup') ? { cgroupV1: cgroupV1MountSources(req.cgroupPaths) } : {}),
    ...(host.cgroup2 && req.cgroupPaths?.[''] ? { cgroup2Path: req.cgroupPaths[''] } : {}),
  });
  // Without CLONE_INTO_CGROUP the child must be placed before it creates its cgroup namespace.
  const withCg = {
    ...plan,
    waitCgroup: req.onCgroup !== undefined && req.cgroupFd === undefined,
    rootfsParent: plan.rootPropagation & MS.SHARED && !plan.sharedMountNs ? mountPointOf(plan.rootfs) : null,
  };
  const sys = req.sys ?? realSys;
  const withHidden = req.noPivot && !plan.sharedMountNs ? { ...withCg, hideMounts: fullProcMountsOutside(req.rootfs) } : withCg;
  // A root runtime can hand a user-namespaced init the bind sources its root may not reach.
  const cloneBinds = host.isRoot && !plan.sharedMountNs && (plan.newUserns || plan.joins.some((j) => j.type === 'user'));
  const trees = prepareIdmapTrees(addSeccomp(withHidden, req.spec, sys, req.log), sys, req.log, cloneBinds);
  try {
    return runPlan(trees.plan, host, { ...req, seccompAgent: seccompAgent(req.spec, req.id, req.bundle) });
  } finally {
    trees.close(); // the child inherited its own copies at the clone
  }
}

/** The mount point holding path in this mount namespace (the longest one that is path or above it). */
function mountPointOf(p: string): string {
  let best = '/';
  for (const m of parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'))) {
    const mp = m.mountPoint;
    if ((p === mp || p.startsWith(mp === '/' ? '/' : mp + '/')) && mp.length > best.length) best = mp;
  }
  return best;
}

/**
 * --no-pivot: the full (root "/") proc and sysfs mounts of our mount namespace outside the rootfs,
 * which the child detaches before MS_MOVE + chroot (runc msMoveRoot). Its namespace is a copy of
 * ours taken at the clone, so our mountinfo lists them.
 */
export function fullProcMountsOutside(rootfs: string, mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  let root = rootfs;
  try {
    root = fs.realpathSync(rootfs);
  } catch {
    /* the child reports a missing rootfs */
  }
  const inside = (p: string) => p === root || p.startsWith(root.endsWith('/') ? root : `${root}/`);
  return parseMountinfo(mountinfo)
    .filter((m) => m.root === '/' && (m.fsType === 'proc' || m.fsType === 'sysfs') && !inside(m.mountPoint))
    .map((m) => m.mountPoint);
}

/**
 * Compiles linux.seccomp (libseccomp, here in the parent) into the plan: the child only installs
 * the program (STYLE §3: no library code after clone). Exec'd processes get the container's filter.
 */
function addSeccomp(plan: InitPlan, spec: Spec, sys: Sys, log: Logger): InitPlan {
  const sc = spec.linux?.seccomp;
  if (!sc) return plan;
  const c = compileSeccompRemembered(sc, { sys });
  if (c.skipped.length) log.debug({ skipped: c.skipped.length }, 'seccomp: syscalls unknown to libseccomp skipped');
  return { ...plan, seccomp: true, seccompProgram: c.program, seccompFlags: c.flags, seccompNotify: c.notify };
}

/** Where a notify listener fd goes (linux.seccomp.listenerPath) and the state sent with it. */
type SeccompAgent = { path: string; metadata?: string; state: (pid: number) => Parameters<typeof containerProcessState>[0] };

function seccompAgent(spec: Spec, id: string, bundle: string): SeccompAgent | undefined {
  const sc = spec.linux?.seccomp;
  if (!sc?.listenerPath) return undefined;
  return {
    path: sc.listenerPath,
    ...(sc.listenerMetadata ? { metadata: sc.listenerMetadata } : {}),
    state: (pid) => ({ ociVersion: spec.ociVersion, id, status: 'creating', pid, bundle, ...(spec.annotations ? { annotations: spec.annotations } : {}) }),
  };
}

/**
 * Enters a running container and starts req.process there; returns once it is about to exec
 * (it is not our child after the pid-namespace fork: wait on it with a pidfd).
 */
export function launchJoin(req: JoinRequest): LaunchResult {
  const host = readHostFacts();
  const plan = compileJoinPlan(req.spec, req.process, {
    id: req.id,
    bundle: req.bundle,
    noNewKeyring: true,
    preserveFds: req.preserveFds,
    host,
    initPid: req.initPid,
  });
  const { onJoined, ...rest } = req;
  const withSc = addSeccomp(plan, req.spec, req.sys ?? realSys, req.log);
  const agent = seccompAgent(req.spec, req.id, req.bundle);
  return runPlan(withSc, host, { ...(onJoined ? { ...rest, onCreateRuntime: onJoined } : rest), seccompAgent: agent });
}

type RunRequest = Pick<LaunchRequest, 'consoleSocket' | 'onPty' | 'cgroupFd' | 'stdio' | 'sys' | 'log' | 'timeoutMs' | 'onCreateRuntime' | 'onCgroup'> & { seccompAgent?: SeccompAgent | undefined };

/** Spawns the child for a compiled plan and serves it until READY; kills and reaps it on failure. */
function runPlan(plan: InitPlan, host: HostFacts, req: RunRequest): LaunchResult {
  const sys = req.sys ?? realSys;
  const log = req.log;
  for (const w of plan.warnings) log.warn(w);
  if (plan.terminal && !req.consoleSocket && !req.onPty) {
    throw errors.invalid('cannot allocate tty if runc will detach without setting console socket');
  }
  if (!plan.terminal && req.consoleSocket) {
    throw errors.invalid('cannot use console socket if runc will not detach or allocate tty');
  }

  const [parentFd, childFd] = sys.socketpair();
  let t: Tracked;
  try {
    const spawnOpts: Parameters<Sys['spawnInit']>[1] = { syncFd: childFd, peerFd: parentFd };
    if (req.cgroupFd !== undefined) spawnOpts.cgroupFd = req.cgroupFd;
    if (req.stdio) spawnOpts.stdio = req.stdio;
    const c = sys.spawnInit(plan, spawnOpts);
    t = { pid: c.pid, pidfd: c.pidfd, isChild: true };
  } catch (e) {
    closeQuietly(parentFd);
    throw e;
  } finally {
    closeQuietly(childFd);
  }
  log.debug({ pid: t.pid }, 'init cloned');
  // With an exec fifo the socket stays open past READY: the init waits for COMMIT on it.
  let keep = false;
  try {
    if (plan.oomScoreAdj !== null) fs.writeFileSync(`/proc/${t.pid}/oom_score_adj`, String(plan.oomScoreAdj));
    serve(sys, req, plan, host, parentFd, t);
    keep = plan.execFifo !== null;
    let open = keep;
    const close = () => {
      if (open) closeQuietly(parentFd);
      open = false;
    };
    return {
      pid: t.pid,
      commit: () => {
        if (!open) return;
        try {
          sys.sendMsg(parentFd, reply(MsgType.COMMIT, Step.READY), -1);
        } catch (e) {
          throw wrap(e, 'commit container init');
        } finally {
          close();
        }
      },
      abort: close,
    };
  } catch (e) {
    killAndReap(sys, t);
    throw e;
  } finally {
    if (!keep) closeQuietly(parentFd);
    closeQuietly(t.pidfd);
  }
}

/** Answers the child's requests in protocol order until READY. */
function serve(sys: Sys, req: RunRequest, plan: InitPlan, host: HostFacts, fd: number, t: Tracked): void {
  const timeout = req.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  for (;;) {
    let rec: { data: Buffer; fd: number };
    try {
      rec = sys.recvMsg(fd, MSG_SIZE, timeout);
    } catch (e) {
      if ((e as { code?: string }).code === 'ETIMEDOUT') {
        throw new RuntimeError('DeadlineExceeded', `container init did not report within ${timeout} ms`);
      }
      throw e;
    }
    if (rec.data.length === 0) {
      // EOF before READY: the child died without an ERROR record (killed, or crashed).
      let how = 'died';
      if (t.isChild) {
        const w = sys.waitid(P_PIDFD, t.pidfd, 0);
        if (w) how = describeExit(w.code, w.status);
        t.isChild = false; // reaped: nothing left to kill
      }
      throw errors.internal(`container init ${how} before it was ready`);
    }
    const m = decodeMsg(rec.data);
    switch (m.type) {
      case MsgType.DEBUG:
        req.log.debug({ stage: 'child', step: m.step }, stepName(m.step));
        break;
      case MsgType.ERROR: {
        const what = describeStep(plan, m.step, m.item);
        const notFound = m.step === Step.EXEC && m.item < 0 && m.err === ENOENT;
        if (m.step === Step.EXEC && m.err === EACCES) {
          // runc's (Go exec.LookPath's) words, which podman maps to "OCI permission denied".
          throw new ChildError(`exec: ${JSON.stringify(plan.args[0] ?? '')}: permission denied`, m.step, m.item, m.err);
        }
        // The kernel answers ENOENT for a profile name it does not know (aa_change_profile).
        const hint = m.step === Step.APPARMOR && m.item === 2 && m.err === ENOENT ? ' (is the profile loaded? apparmor_parser -r <file>)' : '';
        throw new ChildError(notFound ? what : `${what}: ${childErrnoText(m.err)}${hint}`, m.step, m.item, m.err);
      }
      case MsgType.MAP_REQ:
        writeIdMaps(t.pid, plan.uidMappings, plan.gidMappings, { isRoot: host.isRoot, euid: process.geteuid?.() ?? 0, egid: process.getegid?.() ?? 0 });
        sys.sendMsg(fd, reply(MsgType.MAPPED, m.step), -1);
        break;
      case MsgType.PID: {
        // The middle process forked the real init and exits; reap it and follow the grandchild.
        const grandchild = Number(m.value);
        const pidfd = sys.pidfdOpen(grandchild);
        if (t.isChild) sys.waitid(P_PIDFD, t.pidfd, 0);
        closeQuietly(t.pidfd);
        t.pid = grandchild;
        t.pidfd = pidfd;
        t.isChild = false;
        break;
      }
      case MsgType.HOOKS:
        req.onCreateRuntime?.(t.pid);
        sys.sendMsg(fd, reply(MsgType.HOOKS_DONE, m.step), -1);
        break;
      case MsgType.CGROUP_REQ:
        req.onCgroup?.(t.pid);
        sys.sendMsg(fd, reply(MsgType.CGROUP_DONE, m.step), -1);
        break;
      case MsgType.SECCOMP_REQ:
        // The notify listener fd, from the child's seccomp(2): hand it and the state to the agent.
        try {
          if (rec.fd < 0) throw errors.internal('seccomp: no listener fd received');
          const agent = req.seccompAgent;
          if (!agent) throw errors.invalid('seccomp: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath');
          sendSeccompListener(agent.path, containerProcessState(agent.state(t.pid), t.pid, agent.metadata), rec.fd, sys);
        } finally {
          if (rec.fd >= 0) closeQuietly(rec.fd);
        }
        sys.sendMsg(fd, reply(MsgType.SECCOMP_FD, m.step), -1);
        break;
      case MsgType.PTY: {
        let handedOver = false;
        try {
          if (rec.fd < 0) throw errors.internal('console: no pty master received');
          if (req.onPty) {
            // In-process hand-over: the caller now owns the master fd (a reopen through
            // /proc/self/fd would open ptmx anew, i.e. another pty).
            req.onPty(rec.fd);
            handedOver = true;
          } else {
            sys.unixSendFd(req.consoleSocket!, '/dev/ptmx', rec.fd);
          }
        } finally {
          if (rec.fd >= 0 && !handedOver) closeQuietly(rec.fd);
        }
        sys.sendMsg(fd, reply(MsgType.PTY_DONE, m.step), -1);
        break;
      }
      case MsgType.READY:
        return;
      default:
        if (rec.fd >= 0) closeQuietly(rec.fd);
        throw errors.internal(`sync: unexpected record type ${m.type} at ${stepName(m.step)}`);
    }
  }
}
