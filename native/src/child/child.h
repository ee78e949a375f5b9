/* Internal helpers shared by the child's files (native/src/child). Everything here runs after clone
 * in a copy of a multi-threaded process: raw syscalls and fixed buffers only, no malloc, stdio,
 * locks or N-API. Every function returns 0 (or an fd) on success and -errno on failure. */
#ifndef RT_CHILD_H
#define RT_CHILD_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rt/msg.h"
#include "rt/plan.h"

/* syscall(2) with the result folded into -errno. glibc's syscall() is a plain trap wrapper: it
 * takes no lock and allocates nothing, so it is safe after clone. */
#define SC(...) rt_ret(syscall(__VA_ARGS__))
static inline long rt_ret(long r) { return r < 0 ? -errno : r; }

#define STR(plan, off) ((plan)->arena + (off))
#define RT_PATH_MAX 4096

/* Sync socket. */
void rt_send(struct rt_plan *p, uint32_t type, int step, int item, int err, int64_t value);
int rt_send_fd(struct rt_plan *p, uint32_t type, int step, int fd);
int rt_recv(struct rt_plan *p, uint32_t want, int *fd_out);
__attribute__((noreturn)) void rt_fail(struct rt_plan *p, int step, int item, int err);
void rt_debug(struct rt_plan *p, int step);
/* (Re-)arms PR_SET_PDEATHSIG SIGKILL and exits if the parent is already gone (init.c). */
void rt_arm_pdeath(struct rt_plan *p);

/* Small string helpers (no libc locale or allocation involved). */
size_t rt_strlcpy(char *dst, const char *src, size_t size);
int rt_join(char *dst, size_t size, const char *a, const char *b);
void rt_fdpath(char *buf, int fd); /* "/proc/self/fd/<fd>" */

/* Paths inside a root given as a directory fd: in-root resolution with openat2(RESOLVE_IN_ROOT). */
int rt_open_in_root(int rootfd, const char *path, int flags, int nofollow);
int rt_mkdir_in_root(int rootfd, const char *path, int file_last);
/* Clones the mount at fd `from` onto fd `to` (open_tree + move_mount), optionally with attributes. */
int rt_bind_fds(int from, int to, int recursive, uint64_t set_attr);
/* A path under the container's /proc, verified to be procfs and resolved without leaving it or
 * following symlinks (CVE-2019-16884, CVE-2025-52881); `rel` has no leading '/'. */
int rt_open_proc(const char *rel, int flags);
/* tmpcopyup: copies the directory `from` into the new mount's root `to` (copyup.c). */
int rt_copy_up(int from, int to);

/* Steps, in the order init.c runs them. */
int rt_step_join_ns(struct rt_plan *p, int *item);
int rt_step_unshare(struct rt_plan *p);
int rt_step_userns(struct rt_plan *p);
int rt_step_fork(struct rt_plan *p);
int rt_step_timens(struct rt_plan *p, int *item);
int rt_step_session(struct rt_plan *p, int *item);
int rt_step_rootfs(struct rt_plan *p, int *rootfd, int *item);
int rt_step_mounts(struct rt_plan *p, int rootfd, int *item);
int rt_step_devices(struct rt_plan *p, int rootfd, int *item);
int rt_step_symlinks(struct rt_plan *p, int rootfd, int *item);
int rt_step_mkcwd(struct rt_plan *p, int rootfd);
int rt_step_pivot(struct rt_plan *p, int rootfd, int *item);
int rt_step_propagation(struct rt_plan *p);
int rt_step_console(struct rt_plan *p, int *item);
int rt_step_sysctl(struct rt_plan *p, int *item);
int rt_step_readonly(struct rt_plan *p, int *item);
int rt_step_masked(struct rt_plan *p, int *item);
int rt_step_root_ro(struct rt_plan *p, int *item);
int rt_step_hostname(struct rt_plan *p, int *item);
int rt_step_rlimits(struct rt_plan *p, int *item);
int rt_step_bounding(struct rt_plan *p, int *item);
int rt_step_user(struct rt_plan *p, int *item);
int rt_step_caps(struct rt_plan *p, int *item);
int rt_step_nnp(struct rt_plan *p);
int rt_step_apparmor(struct rt_plan *p, int *item);
int rt_step_seccomp(struct rt_plan *p);
int rt_step_cwd(struct rt_plan *p);
int rt_step_fifo(struct rt_plan *p);
int rt_step_exec_resolve(struct rt_plan *p, int *item);
int rt_step_exec(struct rt_plan *p);

#endif
