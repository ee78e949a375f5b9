/* Sync protocol between the parent (src/runtime/launch.ts) and the cloned child (native/src/child):
 * fixed-size records over a SOCK_SEQPACKET socketpair, an fd riding along with SCM_RIGHTS where noted.
 * Mirrored field for field in src/runtime/sync.ts; change both or neither.
 *
 * Protocol (step numbers are enum rt_step; "C" = child, "P" = parent):
 *   1  C  INIT          first action: PR_SET_NAME, PR_SET_PDEATHSIG SIGKILL (re-armed after each
 *                      credential change until COMMIT), PR_SET_DUMPABLE 0, the parent's end of the
 *                      socketpair closed (so its death is EOF here), signal dispositions to SIG_DFL
 *  31  C→P CGROUP_REQ    right after INIT, when the plan asks (no CLONE_INTO_CGROUP): "put me in the
 *      P→C CGROUP_DONE   container's cgroups", so a new cgroup namespace gets them as its root
 *   2  C  JOIN_NS       setns() into every linux.namespaces[].path, user first
 *   3  C  UNSHARE       unshare() what clone3 could not create (only when something was joined)
 *   4  C→P MAP_REQ       "write my uid_map/gid_map" (new user namespace only)
 *      P→C MAPPED        maps written; C becomes root in the namespace (setresgid/setresuid 0)
 *   5  C  FORK          extra fork when a pid or time namespace was joined or unshared;
 *      C→P PID           value = host pid of the grandchild, which carries on; the middle _exits
 *   6  C  SESSION       setsid(), session keyring
 *   7  C  ROOTFS        / to rslave (or rootfsPropagation), rootfs bind-mounted onto itself
 *   8  C  MOUNTS        item = index of linux mount in the plan
 *   9  C  DEVICES       item = index of device
 *  10  C  SYMLINKS      item = index of /dev symlink
 *  11  C  MKCWD         create process.cwd inside the rootfs
 *  12  C→P HOOKS         createRuntime point (namespaces and mounts ready, before pivot_root)
 *      P→C HOOKS_DONE    prestart/createRuntime hooks ran (P kills C if they failed)
 *  13  C  PIVOT         pivot_root (or MS_MOVE + chroot with --no-pivot, after detaching the
 *                      host's full proc/sysfs mounts: item 6)
 *  14  C  PROPAGATION   rootfsPropagation re-applied on the new /
 *  15  C→P PTY (+fd)     pty master, taken from the container's devpts
 *      P→C PTY_DONE      master handed to --console-socket
 *  16  C  SYSCTL        item = index of sysctl
 *  17  C  READONLY      item = index of readonlyPaths
 *  18  C  MASKED        item = index of maskedPaths
 *  19  C  ROOT_RO       item 0: a read-only /dev made so (it was mounted rw for devices and
 *                      console); item 1: root.readonly
 *  20  C  HOSTNAME      item 0 hostname, 1 domainname
 *  21  C  RLIMITS       item = index of rlimit
 *  22  C  BOUNDING      item = capability dropped from the bounding set (needs CAP_SETPCAP: before USER)
 *  23  C  USER          item 0 setgroups, 1 setresgid, 2 setresuid, 3 umask
 *  24  C  CAPS          item 0 capset, 1 ambient clear, else 100 + capability raised into ambient
 *  25  C  NNP           no_new_privs
 *  33  C  APPARMOR      process.apparmorProfile: "exec <profile>" to /proc/thread-self/attr/apparmor/exec
 *                       (item 0 open, 1 open the pre-5.8 attr/exec, 2 write); applied by the kernel at EXEC
 *  26  C→P SECCOMP_REQ   reserved: P answers SECCOMP_FD (+fd of a BPF program) for C to install
 *  27  C  CWD           chdir + getcwd verification (CVE-2024-21626): item 0 as root before USER;
 *                      refused there (EACCES/EPERM), item 1 as the user after CAPS (runc
 *                      finalizeNamespace); always before a no_new_privs seccomp filter
 *  30  C  EXEC (resolve) PATH lookup, #!/PT_INTERP checks against the runtime binary; item = candidate
 *  28  C→P READY         setup done; P returns from launchInit (no exec fifo: closes its end)
 *      P→C COMMIT        exec fifo only: state.json and the pid file are written; C disarms the
 *                        parent-death signal. EOF instead: the create died or failed, C exits
 *  29  C  FIFO          open exec.fifo O_WRONLY (blocks until `start`), write "0"
 *  30  C  EXEC          signals unblocked, fds closed, execveat of the fd checked before READY
 *   *  C→P ERROR         {step, item, err = errno}; C then _exit(1)
 *   *  C→P DEBUG         {step}: entering a step; logged at debug by the parent
 * EOF on the socket before READY means the child died: the parent reaps it and reports the status. */
#ifndef RT_MSG_H
#define RT_MSG_H

#include <stdint.h>

enum rt_step {
  RT_STEP_INIT = 1,
  RT_STEP_JOIN_NS = 2,
  RT_STEP_UNSHARE = 3,
  RT_STEP_USERNS = 4,
  RT_STEP_FORK = 5,
  RT_STEP_SESSION = 6,
  RT_STEP_ROOTFS = 7,
  RT_STEP_MOUNTS = 8,
  RT_STEP_DEVICES = 9,
  RT_STEP_SYMLINKS = 10,
  RT_STEP_MKCWD = 11,
  RT_STEP_HOOKS = 12,
  RT_STEP_PIVOT = 13,
  RT_STEP_PROPAGATION = 14,
  RT_STEP_CONSOLE = 15,
  RT_STEP_SYSCTL = 16,
  RT_STEP_READONLY = 17,
  RT_STEP_MASKED = 18,
  RT_STEP_ROOT_RO = 19,
  RT_STEP_HOSTNAME = 20,
  RT_STEP_RLIMITS = 21,
  RT_STEP_BOUNDING = 22,
  RT_STEP_USER = 23,
  RT_STEP_CAPS = 24,
  RT_STEP_NNP = 25,
  RT_STEP_SECCOMP = 26,
  RT_STEP_CWD = 27,
  RT_STEP_READY = 28,
  RT_STEP_FIFO = 29,
  RT_STEP_EXEC = 30,
  RT_STEP_CGROUP = 31,
  RT_STEP_TIMENS = 32,
  RT_STEP_APPARMOR = 33,
};

enum rt_msg_type {
  RT_MSG_ERROR = 1,
  RT_MSG_DEBUG = 2,
  RT_MSG_MAP_REQ = 3,
  RT_MSG_MAPPED = 4,
  RT_MSG_PID = 5,
  RT_MSG_HOOKS = 6,
  RT_MSG_HOOKS_DONE = 7,
  RT_MSG_PTY = 8,
  RT_MSG_PTY_DONE = 9,
  RT_MSG_SECCOMP_REQ = 10,
  RT_MSG_SECCOMP_FD = 11,
  RT_MSG_READY = 12,
  RT_MSG_CGROUP_REQ = 13,
  RT_MSG_CGROUP_DONE = 14,
  RT_MSG_COMMIT = 15,
};

/* One record; 24 bytes, little-endian host order, no padding. */
struct rt_msg {
  uint32_t type;  /* enum rt_msg_type */
  int32_t step;   /* enum rt_step the sender is in */
  int32_t item;   /* index into the plan list the step walks, or -1 */
  int32_t err;    /* positive errno for ERROR, else 0 */
  int64_t value;  /* PID: grandchild host pid; otherwise 0 */
};

#define RT_MSG_SIZE 24

/* Child-specific errno values beyond the kernel's, reported in rt_msg.err. */
#define RT_ERR_HOST_EXE 4096 /* the executable (or its #! interpreter) is the host runtime binary */
#define RT_ERR_UNREACHABLE_CWD 4097 /* getcwd reports the cwd outside the container root */
#define RT_ERR_NOT_DEVNULL 4098 /* /dev/null is not the 1:3 character device */
#define RT_ERR_NOT_PROCFS 4099 /* a procfs path does not live on procfs */
#define RT_ERR_SYMLINK_DEST 4100 /* a proc/sysfs destination is a symlink or not a directory */
#define RT_ERR_COPYUP_DEPTH 4101 /* tmpcopyup: the covered directory tree is too deep to copy */

#endif
