// Sync protocol between the parent (src/runtime/launch.ts) and the cloned child (native/src/child):
// fixed-size records over a SOCK_SEQPACKET socketpair, an fd riding along with SCM_RIGHTS where noted.
// Mirror of native/include/rt/msg.h (record codec only); change both or neither.
//
// Protocol (step numbers are enum rt_step; "C" = child, "P" = parent):
//   1  C  INIT          first action: PR_SET_NAME, PR_SET_PDEATHSIG SIGKILL (re-armed after each
//                      credential change until COMMIT), PR_SET_DUMPABLE 0, the parent's end of the
//                      socketpair closed (so its death is EOF here), signal dispositions to SIG_DFL
//  31  C→P CGROUP_REQ    right after INIT, when the plan asks (no CLONE_INTO_CGROUP): "put me in the
//      P→C CGROUP_DONE   container's cgroups", so a new cgroup namespace gets them as its root
//   2  C  JOIN_NS       setns() into every linux.namespaces[].path, user first
//   3  C  UNSHARE       unshare() what clone3 could not create (only when something was joined)
//  32  C  TIMENS        linux.timeOffsets: unshare a time namespace, write its timens_offsets, enter
//                       it (item 0 unshare, 1 open timens_offsets, 2 write, 3 open, 4 setns)
//   4  C→P MAP_REQ       "write my uid_map/gid_map" (new user namespace only)
//      P→C MAPPED        maps written; C becomes root in the namespace (setresgid/setresuid 0)
//   5  C  FORK          extra fork when a pid or time namespace was joined or unshared;
//      C→P PID           value = host pid of the grandchild, which carries on; the middle _exits
//   6  C  SESSION       setsid(), session keyring
//   7  C  ROOTFS        / to rslave (or rootfsPropagation), rootfs bind-mounted onto itself
//   8  C  MOUNTS        item = index of linux mount in the plan
//   9  C  DEVICES       item = index of device
//  10  C  SYMLINKS      item = index of /dev symlink
//  11  C  MKCWD         create process.cwd inside the rootfs
//  12  C→P HOOKS         createRuntime point (namespaces and mounts ready, before pivot_root)
//      P→C HOOKS_DONE    prestart/createRuntime hooks ran (P kills C if they failed)
//  13  C  PIVOT         pivot_root (or MS_MOVE + chroot with --no-pivot, after detaching the
//                      host's full proc/sysfs mounts: item 6)
//  14  C  PROPAGATION   rootfsPropagation re-applied on the new /
//  15  C→P PTY (+fd)     pty master, taken from the container's devpts
//      P→C PTY_DONE      master handed to --console-socket
//  16  C  SYSCTL        item = index of sysctl
//  17  C  READONLY      item = index of readonlyPaths
//  18  C  MASKED        item = index of maskedPaths
//  19  C  ROOT_RO       item 0: a read-only /dev made so (it was mounted rw for devices and
//                      console); item 1: root.readonly
//  20  C  HOSTNAME      item 0 hostname, 1 domainname
//  21  C  RLIMITS       item = index of rlimit
//  22  C  BOUNDING      item = capability dropped from the bounding set (needs CAP_SETPCAP: before USER)
//  23  C  USER          item 0 setgroups, 1 setresgid, 2 setresuid, 3 umask
//  24  C  CAPS          item 0 capset, 1 ambient clear, else 100 + capability raised into ambient
//  25  C  NNP           no_new_privs
//  33  C  APPARMOR      process.apparmorProfile: "exec <profile>" to /proc/thread-self/attr/apparmor/exec
//                       (item 0 open, 1 open the pre-5.8 attr/exec, 2 write); applied by the kernel at EXEC
//  26  C→P SECCOMP_REQ   reserved: P answers SECCOMP_FD (+fd of a BPF program) for C to install
//  27  C  CWD           chdir + getcwd verification (CVE-2024-21626): item 0 as root before USER;
//                      refused there (EACCES/EPERM), item 1 as the user after CAPS (runc
//                      finalizeNamespace); always before a no_new_privs seccomp filter
//  30  C  EXEC (resolve) PATH lookup, #!/PT_INTERP checks against the runtime binary; item = candidate
//  28  C→P READY         setup done; P returns from launchInit (no exec fifo: closes its end)
//      P→C COMMIT        exec fifo only: state.json and the pid file are written; C disarms the
//                        parent-death signal. EOF instead: the create died or failed, C exits
//  29  C  FIFO          open exec.fifo O_WRONLY (blocks until `start`), write "0"
//  30  C  EXEC          signals unblocked, fds closed, execveat of the fd checked before READY
//   *  C→P ERROR         {step, item, err = errno}; C then _exit(1)
//   *  C→P DEBUG         {step}: entering a step; logged at debug by the parent
// EOF on the socket before READY means the child died: the parent reaps it and reports the status.
import { errnoName } from '../errors/index';

/** Step numbers, identical to enum rt_step in native/include/rt/msg.h. */
export const Step = {
  INIT: 1,
  JOIN_NS: 2,
  UNSHARE: 3,
  USERNS: 4,
  FORK: 5,
  SESSION: 6,
  ROOTFS: 7,
  MOUNTS: 8,
  DEVICES: 9,
  SYMLINKS: 10,
  MKCWD: 11,
  HOOKS: 12,
  PIVOT: 13,
  PROPAGATION: 14,
  CONSOLE: 15,
  SYSCTL: 16,
  READONLY: 17,
  MASKED: 18,
  ROOT_RO: 19,
  HOSTNAME: 20,
  RLIMITS: 21,
  BOUNDING: 22,
  USER: 23,
  CAPS: 24,
  NNP: 25,
  SECCOMP: 26,
  CWD: 27,
  READY: 28,
  FIFO: 29,
  EXEC: 30,
  CGROUP: 31,
  TIMENS: 32,
  APPARMOR: 33,
} as const;

/** Record types, identical to enum rt_msg_type. */
export const MsgType = {
  ERROR: 1,
  DEBUG: 2,
  MAP_REQ: 3,
  MAPPED: 4,
  PID: 5,
  HOOKS: 6,
  HOOKS_DONE: 7,
  PTY: 8,
  PTY_DONE: 9,
  SECCOMP_REQ: 10,
  SECCOMP_FD: 11,
  READY: 12,
  CGROUP_REQ: 13,
  CGROUP_DONE: 14,
  COMMIT: 15,
} as const;

/** sizeof(struct rt_msg). */
export const MSG_SIZE = 24;

/** Child errno values beyond the kernel's (RT_ERR_* in msg.h) and what they mean. */
export const ChildErrno = {
  HOST_EXE: 4096,
  UNREACHABLE_CWD: 4097,
  NOT_DEVNULL: 4098,
  NOT_PROCFS: 4099,
  SYMLINK_DEST: 4100,
  COPYUP_DEPTH: 4101,
} as const;

const childErrnoMeaning: Record<number, string> = {
  [ChildErrno.HOST_EXE]: 'refusing to execute the runtime binary inside the container (CVE-2019-5736)',
  [ChildErrno.UNREACHABLE_CWD]: 'current working directory is outside of the container root (CVE-2024-21626)',
  [ChildErrno.NOT_DEVNULL]: '/dev/null is not the 1:3 character device',
  [ChildErrno.NOT_PROCFS]: 'not on procfs',
  [ChildErrno.SYMLINK_DEST]: 'destination is a symlink or not a directory',
  [ChildErrno.COPYUP_DEPTH]: 'tmpcopyup: directory tree deeper than 32 levels',
};

/** struct rt_msg. */
export type SyncMsg = { type: number; step: number; item: number; err: number; value: bigint };

export function encodeMsg(m: SyncMsg): Buffer {
  const b = Buffer.alloc(MSG_SIZE);
  b.writeUInt32LE(m.type, 0);
  b.writeInt32LE(m.step, 4);
  b.writeInt32LE(m.item, 8);
  b.writeInt32LE(m.err, 12);
  b.writeBigInt64LE(m.value, 16);
  return b;
}

/** Decodes one record; throws on a short or oversized record (a protocol bug, not a child error). */
export function decodeMsg(b: Buffer): SyncMsg {
  if (b.length !== MSG_SIZE) throw new Error(`sync record of ${b.length} bytes, want ${MSG_SIZE}`);
  return { type: b.readUInt32LE(0), step: b.readInt32LE(4), item: b.readInt32LE(8), err: b.readInt32LE(12), value: b.readBigInt64LE(16) };
}

/** A record the parent sends: only the type matters to the child. */
export function reply(type: number, step: number): Buffer {
  return encodeMsg({ type, step, item: -1, err: 0, value: 0n });
}

const stepNames = new Map<number, string>(Object.entries(Step).map(([k, v]) => [v, k.toLowerCase()]));

/** "mounts", "pivot", … for logs. */
export function stepName(step: number): string {
  return stepNames.get(step) ?? `step ${step}`;
}

/** Text for an errno reported by the child: the symbolic name, or the RT_ERR_* meaning. */
export function childErrnoText(err: number): string {
  return childErrnoMeaning[err] ?? errnoName(err);
}
