/* struct rt_plan: everything the cloned child needs, resolved by src/runtime/plan before the clone and
 * copied into one flat, fixed-size block by native/src/addon/spawn.cc. Strings live in one arena and
 * are referenced by offset (rt_str, 0 = absent). The child only reads it (plus the scratch fields). */
#ifndef RT_PLAN_H
#define RT_PLAN_H

#include <stdint.h>

#define RT_PLAN_MAGIC 0x6b65656cu /* "keel" */
#define RT_MAX_NS 8
#define RT_MAX_MOUNTS 128
#define RT_MAX_SYMLINKS 16
#define RT_MAX_PATHS 64
#define RT_MAX_SYSCTLS 64
#define RT_MAX_RLIMITS 16
#define RT_MAX_GROUPS 64
#define RT_MAX_ARGS 256
#define RT_MAX_SECCOMP 4096 /* BPF instructions, the kernel's BPF_MAXINSNS */
#define RT_MAX_ENV 1024
#define RT_MAX_EXEC_PATHS 64
#define RT_ARENA_SIZE (256 * 1024)

typedef uint32_t rt_str;

/* Mount kinds: what the child does with an entry. */
enum rt_mount_kind {
  RT_MOUNT_FS = 0,   /* mount(source, target, type, flags, data) */
  RT_MOUNT_BIND = 1, /* bind (MS_REC for rbind), then remount with flags if any, then propagation */
};

struct rt_ns_join {
  uint64_t flag; /* CLONE_NEW* */
  rt_str path;
  uint32_t pad;
};

struct rt_mount {
  rt_str source, destination, type, data;
  uint64_t flags;       /* MS_* for mount(2), propagation excluded */
  uint64_t propagation; /* one of MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE, | MS_REC; 0 = leave */
  uint64_t attr_set;    /* mount_setattr(AT_RECURSIVE) attributes (rro, rnosuid, ...) */
  uint64_t attr_clr;
  uint32_t kind;        /* enum rt_mount_kind */
  uint32_t procfs_like; /* proc or sysfs: destination must be a real directory (CVE-2019-19921) */
  int32_t tree_fd;      /* bind: a detached id-mapped tree made by the parent (src/runtime/idmap.ts),
                           attached with move_mount instead of a bind; -1 = none */
  uint32_t copy_up;     /* tmpfs: copy the covered directory into it (tmpcopyup, copyup.c) */
  uint32_t tree_fallback; /* 1: tree_fd is a plain clone, used only if the source path is refused */
  uint32_t pad2;
};

struct rt_device {
  rt_str path;      /* absolute inside the container */
  uint32_t mode;    /* S_IFCHR/S_IFBLK/S_IFIFO | permission bits */
  uint32_t major, minor;
  uint32_t uid, gid;
};

struct rt_symlink {
  rt_str target, link;
};

struct rt_rlimit {
  uint32_t resource, pad;
  uint64_t soft, hard;
};

struct rt_sysctl {
  rt_str path;  /* relative to /proc/sys, with '/' separators */
  rt_str value;
};

struct rt_plan {
  uint32_t magic, size;

  /* namespaces */
  uint64_t clone_flags;   /* created by clone3 itself */
  uint64_t unshare_flags; /* created by unshare() after the joins */
  uint32_t n_joins;
  uint32_t new_userns;    /* 1: a user namespace is created; wait for MAPPED */
  uint32_t maps_dumpable; /* 1: dumpable while the parent writes the maps (an unprivileged parent or
                            newuidmap must own /proc/<pid>/uid_map; it is root's while non-dumpable) */
  struct rt_ns_join joins[RT_MAX_NS]; /* user first */
  uint32_t fork_after;    /* 1: pid or time namespace joined/unshared: fork once more */
  uint32_t join_only;     /* 1: exec into a running container (no rootfs setup) */
  uint32_t wait_cgroup;   /* 1: ask the parent to place us in the cgroups before any namespace work */
  rt_str time_offsets;    /* linux.timeOffsets as timens_offsets lines: a new time namespace is made at step TIMENS, 0 = none */

  /* root filesystem */
  rt_str rootfs;
  rt_str exec_fifo;       /* host path, or 0 */
  uint32_t fifo_hold;      /* 1: after "0", wait for start's second byte (startContainer hooks run meanwhile) */
  uint64_t root_propagation; /* applied to / before the mounts: MS_REC | MS_SLAVE unless configured */
  rt_str rootfs_parent;    /* made private before the rootfs bind when root_propagation is shared, 0 = none */
  uint64_t rootfs_propagation; /* linux.rootfsPropagation re-applied after pivot, 0 = none */
  uint32_t readonly_root, no_pivot;
  uint32_t readonly_dev;  /* 1: /dev is mounted read-write for the devices and the console, and made
                             read-only at step ROOT_RO (runc finalizeRootfs) */
  uint32_t n_hide;        /* --no-pivot: host proc/sysfs mounts to detach before MS_MOVE (hide_mounts) */
  uint32_t shared_mntns;  /* 1: no mount namespace of its own: mounts land in the runtime's, chroot instead of pivot_root */
  uint32_t n_mounts, n_devices, n_symlinks, n_masked, n_readonly, n_sysctls, n_rlimits;
  uint32_t bind_devices;  /* user namespace: bind host device nodes instead of mknod */
  struct rt_mount mounts[RT_MAX_MOUNTS];
  struct rt_device *devices; /* n_devices entries, allocated by spawn.cc (a privileged container gets
                                every host device: no fixed bound) */
  struct rt_symlink symlinks[RT_MAX_SYMLINKS];
  rt_str masked[RT_MAX_PATHS];
  rt_str readonly[RT_MAX_PATHS];
  rt_str hide_mounts[RT_MAX_PATHS]; /* --no-pivot: full proc/sysfs mounts outside the rootfs (runc msMoveRoot):
                                       left reachable, they would let the container mount an unmasked /proc */
  struct rt_sysctl sysctls[RT_MAX_SYSCTLS];
  struct rt_rlimit rlimits[RT_MAX_RLIMITS];

  /* identity */
  rt_str hostname, domainname; /* 0 = leave */
  uint32_t new_keyring;
  rt_str keyring_name;
  uint32_t uid, gid, umask, n_groups;
  uint32_t groups[RT_MAX_GROUPS];
  uint32_t set_groups;    /* 0 in a user namespace whose setgroups is "deny" */
  uint32_t apply_caps;    /* 0: process.capabilities absent, capability sets left alone */
  uint32_t cap_last;      /* highest capability the kernel knows */
  uint64_t cap_bounding, cap_effective, cap_permitted, cap_inheritable, cap_ambient;
  uint32_t no_new_privs;
  rt_str apparmor_profile; /* process.apparmorProfile, written for the next execve at step APPARMOR; 0 = none */
  uint32_t seccomp;       /* 1: install seccomp_prog at step SECCOMP */
  uint32_t seccomp_flags; /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
  uint32_t seccomp_notify; /* 1: NEW_LISTENER; the listener fd goes to the parent (SECCOMP_REQ) */
  uint32_t seccomp_len;   /* instructions in seccomp_prog */
  uint64_t seccomp_prog[RT_MAX_SECCOMP]; /* struct sock_filter records, compiled by libseccomp in the parent */

  /* terminal */
  uint32_t terminal;
  uint32_t console_rows, console_cols;

  /* process */
  rt_str cwd;
  uint32_t n_args, n_env, n_exec_paths, preserve_fds;
  rt_str args[RT_MAX_ARGS];
  rt_str env[RT_MAX_ENV];
  rt_str exec_paths[RT_MAX_EXEC_PATHS]; /* candidates for argv[0], in PATH order */
  uint64_t host_exe_dev, host_exe_ino;  /* the runtime's own binary (CVE-2019-5736 check) */

  /* set by spawn.cc, not by the plan */
  int32_t sync_fd;
  int32_t peer_fd;        /* the parent's end of the sync socketpair: closed at INIT, or the parent's
                             death would never reach us as EOF */
  int32_t stdio[3];       /* dup'ed onto 0, 1, 2 at INIT when >= 0 */

  /* child scratch: pointer tables built from the offsets above */
  int32_t fifo_fd;
  int32_t forked;         /* 1 in the grandchild after FORK: the parent-death signal is not ours to arm */
  int32_t exec_fd;        /* the checked executable, opened before READY */
  int32_t exec_stub_fd;   /* sealed memfd of exec-stub (spawn.cc), -1 = none: exec the checked fd */
  char *exec_path;        /* the PATH candidate that resolved, exec'd by the stub */
  char **exec_argv;       /* into argv_ptrs, after #! rewriting */
  char *argv_ptrs[RT_MAX_ARGS + 17]; /* room in front for #! interpreters (or the stub's path), and the NULL */
  char *envp_ptrs[RT_MAX_ENV + 1];

  uint32_t arena_len;
  char arena[RT_ARENA_SIZE];
};

#ifdef __cplusplus
extern "C" {
#endif

/* The child's entry point (native/src/child/init.c): runs every step and never returns. */
__attribute__((noreturn)) void rt_child_main(struct rt_plan *plan);

#ifdef __cplusplus
}
#endif

#endif
