// The only importer of keel.node: the typed Sys interface over the addon, and errno errors turned
// into SysError. Everything above this file sees Sys, never the binding, so tests can pass a fake.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SysError } from '../errors/index';
import type { InitPlan } from '../runtime/plan/types';

/** Where the cloned child gets its sync socket, cgroup and stdio (native/src/addon/spawn.cc). */
export type SpawnOptions = {
  /** The child's end of the sync socketpair. */
  syncFd: number;
  /** The parent's end, closed by the child at once (else the parent's death is no EOF to it). */
  peerFd?: number;
  /** cgroup v2 directory fd for CLONE_INTO_CGROUP; absent = stay in the caller's cgroup. */
  cgroupFd?: number;
  /** fds dup'ed onto the child's 0, 1, 2 (-1 = inherit). */
  stdio?: [number, number, number];
};

/** One waitid(2) result: si_pid, si_code (CLD_EXITED 1, CLD_KILLED 2, CLD_DUMPED 3), si_status. */
export type WaitResult = { pid: number; code: number; status: number };

/** Parent-side system calls Node lacks. Every member throws SysError on failure. */
export interface Sys {
  /** flock(2) on an open fd; op is LOCK_SH, LOCK_EX or LOCK_UN, optionally | LOCK_NB. */
  flock(fd: number, op: number): void;
  /** mkfifo(3) with an explicit mode (the umask still applies). */
  mkfifo(path: string, mode: number): void;
  /** llistxattr(2): the extended attribute names of path (a final symlink is not followed). */
  llistxattr(path: string): string[];
  /** lgetxattr(2): the value, or null when path has no such attribute. */
  lgetxattr(path: string, name: string): Buffer | null;
  /**
   * The entries of directory path in one pool job: lstat, the content of regular files up to
   * readAhead bytes (budget bytes in all), symlink targets, xattrs (native/src/addon/scan.cc).
   */
  scanDir(path: string, readAhead: number, budget: number): Promise<ScanEntry[]>;
  /** bpf(BPF_PROG_LOAD) of 8-byte instruction records; returns the program fd (the verifier log is in the error). */
  bpfProgLoad(progType: number, insns: Buffer, license: string): number;
  /** bpf(BPF_PROG_ATTACH) of progFd to the cgroup dir fd targetFd. */
  bpfProgAttach(targetFd: number, progFd: number, attachType: number, flags: number): void;
  /** bpf(BPF_PROG_DETACH) of progFd from the cgroup dir fd targetFd. */
  bpfProgDetach(targetFd: number, progFd: number, attachType: number): void;
  /** bpf(BPF_PROG_QUERY): ids of the programs attached to targetFd (at most 64). */
  bpfProgQuery(targetFd: number, attachType: number): number[];
  /** bpf(BPF_PROG_GET_FD_BY_ID): an fd for an attached program id. */
  bpfProgGetFdById(id: number): number;
  /** clone3 of a container init from an InitPlan; the child never returns into JS. */
  spawnInit(plan: InitPlan, opts: SpawnOptions): { pid: number; pidfd: number };
  /** socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC). */
  socketpair(): [number, number];
  /** pidfd_open(2). */
  pidfdOpen(pid: number): number;
  /** pidfd_send_signal(2). */
  pidfdSendSignal(pidfd: number, signal: number): void;
  /** waitid(idtype, id, WEXITED | options): idtype P_ALL 0, P_PID 1, P_PIDFD 3; null when WNOHANG found nothing. */
  waitid(idtype: number, id: number, options: number): WaitResult | null;
  /** poll(2) on one fd: the revents, 0 on timeout (timeoutMs < 0 waits forever). */
  poll(fd: number, events: number, timeoutMs: number): number;
  /** recvmsg(2) of one record (up to size bytes) with an optional SCM_RIGHTS fd (-1 if none);
   * an empty data buffer means EOF; throws ETIMEDOUT after timeoutMs. */
  recvMsg(fd: number, size: number, timeoutMs: number): { data: Buffer; fd: number };
  /** sendmsg(2) of one record, with sendFd attached by SCM_RIGHTS when >= 0. */
  sendMsg(fd: number, data: Buffer, sendFd: number): void;
  /** prctl(PR_SET_CHILD_SUBREAPER). */
  setChildSubreaper(on: boolean): void;
  /** close_range(first, ~0U, CLOSE_RANGE_CLOEXEC): fds from `first` on are not inherited by what we exec. */
  cloexecFrom(first: number): void;
  /** Connects to an AF_UNIX stream socket at path and sends payload with fd attached (console socket). */
  unixSendFd(path: string, payload: string, fd: number): void;
  /** Compiles a resolved seccomp profile with libseccomp and exports classic BPF (native/src/sys/seccomp.c);
   * a libseccomp failure is returned, not thrown, so the caller can name the profile entry. */
  seccompCompile(input: SeccompCompileInput): SeccompCompileResult;
  /** SCMP_ARCH_* token of a libseccomp arch name ("x86_64", "x32"...), 0 if unknown; null = the native arch. */
  seccompArch(name: string | null): number;
  /** Syscall number of name on arch (0 = native); -1 if unknown, < -1 for libseccomp pseudo-syscalls. */
  seccompSyscall(arch: number, name: string): number;
  /** Whether the kernel accepts a SECCOMP_FILTER_FLAG_* bit (seccomp(2) EFAULT probe). */
  seccompFlagSupported(flag: number): boolean;
  /** libseccomp's version and API level (seccomp_version(), seccomp_api_get()). */
  seccompVersion(): { major: number; minor: number; micro: number; api: number };
  /** umount2(2) (mounts a container without its own mount namespace left in ours). */
  umount2(target: string, flags: number): void;
  /** open_tree(AT_FDCWD, path, flags) (OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE …): a mount fd. */
  openTree(path: string, flags: number): number;
  /** mount_setattr(fd, path, flags, {attrSet, attrClr, userns_fd}) (usernsFd -1 = none). */
  mountSetattr(fd: number, path: string, flags: number, attrSet: number, attrClr: number, usernsFd: number): void;
  /** A process in a new user namespace that waits for SIGKILL (for its /proc/<pid>/ns/user); kill and reap it. */
  spawnUsernsHolder(): { pid: number; pidfd: number };
}

/** One entry of scanDir: errno set (and nothing else) when it vanished between readdir and lstat. */
export type ScanEntry = {
  name: string;
  errno?: number;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeSec: number;
  mtimeNsec: number;
  rdev: number;
  dev: number;
  ino: number;
  nlink: number;
  data?: Buffer;
  link?: string;
  xattrs?: [string, Buffer][];
};

/** A seccomp profile reduced to libseccomp's numbers: one rule per syscall name (src/runtime/seccomp.ts). */
export type SeccompCompileInput = {
  /** SCMP_ACT_* value of the default action (errno/trace data included). */
  defaultAction: number;
  /** SCMP_ARCH_* tokens added next to the native arch. */
  arches: number[];
  /** Set SCMP_FLTATR_CTL_LOG / SCMP_FLTATR_CTL_SSB (kernel support checks only; the BPF is unchanged). */
  log: boolean;
  ssb: boolean;
  /** SCMP_FLTATR_CTL_OPTIMIZE level; 0 = libseccomp's default. */
  optimize: number;
  /** Rules; conditions in one rule are ANDed. a/b are datum_a/datum_b. */
  rules: { name: string; action: number; conds: { arg: number; op: number; a: bigint; b: bigint }[] }[];
};

/** The exported program (struct sock_filter records) and the indexes of rules skipped as unknown
 * syscalls, or the failing libseccomp call with its errno and rule index (-1 = the profile itself). */
export type SeccompCompileResult =
  | { program: Buffer; skipped: number[] }
  | { errno: number; rule: number; what: string };

export const P_ALL = 0;
export const P_PID = 1;
export const P_PIDFD = 3;
export const WNOHANG = 1;
export const WNOWAIT = 0x01000000;
export const POLLIN = 1;
export const POLLHUP = 0x10;

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

type RawError = Error & { errno?: number; syscall?: string; path?: string };

/** Finds keel.node: $KEEL_NATIVE, else native/build/Release above this file (source or bundle). */
function addonPath(): string {
  const override = process.env.KEEL_NATIVE;
  if (override) return override;
  let dir = __dirname;
  for (let i = 0; i < 4; i++) {
    const candidate = path.join(dir, 'native', 'build', 'Release', 'keel.node');
    if (fs.existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(`keel.node not found above ${__dirname}: run make`);
}

let binding: Record<string, (...args: unknown[]) => unknown> | undefined;

function load(): Record<string, (...args: unknown[]) => unknown> {
  if (!binding) {
    const mod = { exports: {} as Record<string, (...args: unknown[]) => unknown> };
    process.dlopen(mod, addonPath());
    binding = mod.exports;
  }
  return binding;
}

/** Calls a binding and rethrows its errno errors as SysError. */
function call<T>(name: string, ...args: unknown[]): T {
  try {
    return load()[name]!(...args) as T;
  } catch (e) {
    const raw = e as RawError;
    if (typeof raw.errno === 'number') throw new SysError(raw.syscall ?? name, raw.errno, raw.path);
    throw e;
  }
}

/** The real system, backed by keel.node (loaded on first use, so commands that need none pay nothing). */
export const realSys: Sys = {
  flock: (fd, op) => call<void>('flock', fd, op),
  mkfifo: (p, mode) => call<void>('mkfifo', p, mode),
  llistxattr: (p) => call<string[]>('llistxattr', p),
  lgetxattr: (p, name) => call<Buffer | null>('lgetxattr', p, name),
  scanDir: (p, readAhead, budget) =>
    call<Promise<ScanEntry[]>>('scanDir', p, readAhead, budget).catch((e: RawError) => {
      throw typeof e.errno === 'number' ? new SysError(e.syscall ?? 'scandir', e.errno, e.path) : e;
    }),
  bpfProgLoad: (type, insns, license) => call<number>('bpfProgLoad', type, insns, license),
  bpfProgAttach: (t, p, type, flags) => call<void>('bpfProgAttach', t, p, type, flags),
  bpfProgDetach: (t, p, type) => call<void>('bpfProgDetach', t, p, type),
  bpfProgQuery: (t, type) => call<number[]>('bpfProgQuery', t, type),
  bpfProgGetFdById: (id) => call<number>('bpfProgGetFdById', id),
  spawnInit: (plan, opts) => call<{ pid: number; pidfd: number }>('spawnInit', plan, opts),
  socketpair: () => call<[number, number]>('socketpair'),
  pidfdOpen: (pid) => call<number>('pidfdOpen', pid),
  pidfdSendSignal: (pidfd, sig) => call<void>('pidfdSendSignal', pidfd, sig),
  waitid: (idtype, id, options) => call<WaitResult | null>('waitid', idtype, id, options),
  poll: (fd, events, timeoutMs) => call<number>('poll', fd, events, timeoutMs),
  recvMsg: (fd, size, timeoutMs) => call<{ data: Buffer; fd: number }>('recvMsg', fd, size, timeoutMs),
  sendMsg: (fd, data, sendFd) => call<void>('sendMsg', fd, data, sendFd),
  setChildSubreaper: (on) => call<void>('setChildSubreaper', on),
  cloexecFrom: (first) => call<void>('cloexecFrom', first),
  unixSendFd: (p, payload, fd) => call<void>('unixSendFd', p, payload, fd),
  seccompCompile: (input) => call<SeccompCompileResult>('seccompCompile', input),
  seccompArch: (name) => call<number>('seccompArch', name),
  seccompSyscall: (arch, name) => call<number>('seccompSyscall', arch, name),
  seccompFlagSupported: (flag) => call<boolean>('seccompFlagSupported', flag),
  seccompVersion: () => call<{ major: number; minor: number; micro: number; api: number }>('seccompVersion'),
  umount2: (tgt, flags) => call<void>('umount2', tgt, flags),
  openTree: (p, flags) => call<number>('openTree', p, flags),
  mountSetattr: (fd, p, flags, set, clr, userns) => call<void>('mountSetattr', fd, p, flags, set, clr, userns),
  spawnUsernsHolder: () => call<{ pid: number; pidfd: number }>('spawnUsernsHolder'),
};

/** Memory hand-back for the long-lived processes, dock's daemon and the shim daemon (native/src/addon/sys.cc). */
export interface MemSys {
  /** mallopt(M_ARENA_MAX, n): threads that have not allocated yet share the existing arenas. */
  mallocArenaMax(n: number): void;
  /** V8's low-memory notification (full, compacting collections), then malloc_trim(0); true when malloc gave pages back. */
  releaseMemory(): boolean;
}

export const realMemSys: MemSys = {
  mallocArenaMax: (n) => call<void>('mallocArenaMax', n),
  releaseMemory: () => call<boolean>('releaseMemory'),
};

/** What the containerd shim adds (native/src/addon/shim.cc). Every member throws SysError. */
export interface ShimSys {
  /** posix_spawn of argv[0] (an absolute path) with fds on 0/1/2 (-1 = /dev/null), default signals; returns pid and a pidfd. */
  spawn(argv: string[], env: string[], cwd: string | null, stdio: [number, number, number], setsid: boolean): { pid: number; pidfd: number };
  /** pipe2(O_CLOEXEC): [read, write]. */
  pipe(): [number, number];
  /** A non-blocking, CLOEXEC AF_UNIX stream socket bound to path and listening. */
  unixListen(path: string, backlog: number): number;
  /** accept4(CLOEXEC); -1 when nothing is pending. */
  accept(fd: number): number;
  /** mount(2); data '' = NULL. */
  mount(source: string, target: string, fstype: string, flags: number, data: string): void;
  /** umount2(2). */
  umount2(target: string, flags: number): void;
  /** ioctl(TIOCSWINSZ). */
  setWinsize(fd: number, rows: number, cols: number): void;
  /** Sets or clears O_NONBLOCK. */
  setNonblock(fd: number, on: boolean): void;
  /** fcntl(F_DUPFD_CLOEXEC): a second fd for the same open file (so two owners can close independently). */
  dup(fd: number): number;
}

export const realShimSys: ShimSys = {
  spawn: (argv, env, cwd, stdio, setsid) => call<{ pid: number; pidfd: number }>('spawn', argv, env, cwd, stdio, setsid),
  pipe: () => call<[number, number]>('pipe'),
  unixListen: (p, backlog) => call<number>('unixListen', p, backlog),
  accept: (fd) => call<number>('accept', fd),
  mount: (src, tgt, type, flags, data) => call<void>('mount', src, tgt, type, flags, data),
  umount2: (tgt, flags) => call<void>('umount2', tgt, flags),
  setWinsize: (fd, rows, cols) => call<void>('setWinsize', fd, rows, cols),
  setNonblock: (fd, on) => call<void>('setNonblock', fd, on),
  dup: (fd) => call<number>('dup', fd),
};

/** One veth endpoint for NetSys.vethAdd (native/include/rt/netns.h, struct rt_veth). */
export type VethAddSpec = {
  /** Host end: enslaved to bridge, hairpin on, ifalias alias, up. */
  hostIf: string;
  bridge: string;
  alias: string;
  /** Peer: created inside the netns bind-mounted at netns, with mac, address/prefix, up. */
  ifname: string;
  netns: string;
  mac: Buffer;
  address: string;
  prefix: number;
  /** Default route via this address (replacing any), when given. */
  gateway?: string;
};

/**
 * dock's network kernel work (native/src/addon/netns.cc): rtnetlink and namespace switches run as
 * libuv pool jobs, so each member returns a promise and never blocks the event loop. Rejections are
 * SysErrors whose syscall names the failing step ("veth add: add address").
 */
export interface NetSys {
  /** A new network namespace bind-mounted on the existing file path, with lo up. */
  netnsCreate(path: string): Promise<void>;
  /** A veth pair configured on both sides in one job; a failure deletes the host end again. */
  vethAdd(spec: VethAddSpec): Promise<void>;
  /** Takes a link off its bridge and down (the bridge flushes the MACs learnt on it); ENODEV when gone. */
  linkUnbridge(name: string): Promise<void>;
  /** RTM_DELLINK by name in the daemon's namespace (ENODEV when it is gone). */
  linkDel(name: string): Promise<void>;
}

function callAsync(name: string, ...args: unknown[]): Promise<void> {
  return call<Promise<void>>(name, ...args).catch((e: RawError) => {
    throw typeof e.errno === 'number' ? new SysError(e.syscall ?? name, e.errno, e.path) : e;
  });
}

export const realNetSys: NetSys = {
  netnsCreate: (p) => callAsync('netnsCreate', p),
  vethAdd: (spec) => callAsync('vethAdd', spec),
  linkUnbridge: (name) => callAsync('linkUnbridge', name),
  linkDel: (name) => callAsync('linkDel', name),
};
