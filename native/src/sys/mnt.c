/* Parent-side mount API wrappers (open_tree, mount_setattr) and the user-namespace holder process
 * for id-mapped mounts. Each returns >= 0 or -errno; no logic beyond the calls. */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rt/mnt.h"

/* linux/mount.h of older headers lacks userns_fd; the kernel's struct is fixed (mount_setattr(2)). */
struct rt_mount_attr {
  uint64_t attr_set;
  uint64_t attr_clr;
  uint64_t propagation;
  uint64_t userns_fd;
};

int rt_open_tree(const char *path, unsigned flags)
{
  long r = syscall(SYS_open_tree, AT_FDCWD, path, flags);
  return r < 0 ? -errno : (int)r;
}

int rt_mount_setattr(int fd, const char *path, unsigned flags, uint64_t attr_set, uint64_t attr_clr, int userns_fd)
{
  struct rt_mount_attr a = {.attr_set = attr_set, .attr_clr = attr_clr, .userns_fd = (uint64_t)(userns_fd < 0 ? 0 : userns_fd)};
  return syscall(SYS_mount_setattr, fd, path, flags, &a, sizeof a) < 0 ? -errno : 0;
}

int rt_spawn_userns_holder(int *pidfd)
{
  /* Fork-style clone of a multi-threaded process: the child runs raw syscalls only (STYLE §3). With
   * every signal blocked, pause() never returns and no inherited Node handler can run; SIGKILL
   * still ends it. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = CLONE_NEWUSER | CLONE_PIDFD;
  args.pidfd = (uint64_t)(uintptr_t)pidfd;
  args.exit_signal = SIGCHLD;
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) {
    syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    syscall(SYS_prctl, PR_SET_NAME, "rt:userns", 0, 0, 0);
    syscall(SYS_close_range, 0, ~0U, 0); /* it carries a namespace, nothing else */
    for (;;)
      syscall(SYS_pause);
  }
  int saved = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return pid < 0 ? -saved : (int)pid;
}
