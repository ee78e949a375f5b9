/* Namespace steps of the child: setns into joined namespaces, unshare the rest, wait for the id
 * maps, the extra fork for pid/time namespaces, and the session. Raw syscalls only. */
#include <fcntl.h>
#include <linux/keyctl.h>
#include <linux/prctl.h>
#include <linux/sched.h>
#include <signal.h>
#include <string.h>

#include "child.h"

int rt_step_join_ns(struct rt_plan *p, int *item)
{
  /* Open every namespace first: once we are in a new mount namespace the paths may resolve
   * differently (runc nsexec.c join_namespaces does the same). */
  int fds[RT_MAX_NS];
  for (uint32_t i = 0; i < p->n_joins; i++) {
    *item = (int)i;
    long fd = SC(SYS_openat, AT_FDCWD, STR(p, p->joins[i].path), O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) {
      for (uint32_t j = 0; j < i; j++)
        SC(SYS_close, fds[j]);
      return (int)fd;
    }
    fds[i] = (int)fd;
  }
  int r = 0;
  for (uint32_t i = 0; i < p->n_joins; i++) {
    if (r == 0) {
      *item = (int)i;
      r = (int)SC(SYS_setns, fds[i], (int)p->joins[i].flag);
    }
    SC(SYS_close, fds[i]);
  }
  return r;
}

int rt_step_unshare(struct rt_plan *p)
{
  return (int)SC(SYS_unshare, (unsigned long)p->unshare_flags);
}

/* The parent writes uid_map/gid_map (it holds the privilege to map arbitrary ids); then we become
 * root of the namespace so that the rest of setup has its capabilities with a mapped identity. */
int rt_step_userns(struct rt_plan *p)
{
  if (p->new_userns) {
    /* A non-dumpable process's /proc/<pid> files belong to root (proc(5), task_dump_owner), so an
     * unprivileged parent, or newuidmap checking that the caller owns the target, could not write
     * our maps. Nothing of the container runs yet: the window holds only this copy of the runtime
     * in its new, empty namespaces (runc's nsexec.c does the same around SYNC_USERMAP_PLS). */
    if (p->maps_dumpable) {
      long d = SC(SYS_prctl, PR_SET_DUMPABLE, 1, 0, 0, 0);
      if (d < 0)
        return (int)d;
    }
    rt_send(p, RT_MSG_MAP_REQ, RT_STEP_USERNS, -1, 0, 0);
    int r = rt_recv(p, RT_MSG_MAPPED, NULL);
    if (p->maps_dumpable) {
      long d = SC(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0);
      if (r == 0 && d < 0)
        r = (int)d;
    }
    if (r < 0)
      return r;
  }
  long r = SC(SYS_setresgid, 0, 0, 0);
  if (r < 0)
    return (int)r;
  return (int)SC(SYS_setresuid, 0, 0, 0);
}

/* linux.timeOffsets. Offsets can be written only while no process lives in the time namespace
 * (time_namespaces(7)), so it is not created by clone3: unshare makes it for our future children,
 * owned by our (possibly new) user namespace, where we hold every capability; the offsets go in; then setns into our own
 * time_for_children moves this (single-threaded) process in as well, freezing them. No extra fork. */
int rt_step_timens(struct rt_plan *p, int *item)
{
  *item = 0;
  long r = SC(SYS_unshare, CLONE_NEWTIME);
  if (r < 0)
    return (int)r;
  *item = 1;
  long fd = SC(SYS_openat, AT_FDCWD, "/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC, 0);
  if (fd < 0)
    return (int)fd;
  *item = 2;
  const char *s = STR(p, p->time_offsets);
  r = SC(SYS_write, (int)fd, s, strlen(s));
  SC(SYS_close, (int)fd);
  if (r < 0)
    return (int)r;
  *item = 3;
  fd = SC(SYS_openat, AT_FDCWD, "/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    return (int)fd;
  *item = 4;
  r = SC(SYS_setns, (int)fd, CLONE_NEWTIME);
  SC(SYS_close, (int)fd);
  return (int)r;
}

/* setns/unshare of a pid or time namespace only applies to children, so fork once more; the
 * grandchild carries on and the middle process reports its pid and exits. */
int rt_step_fork(struct rt_plan *p)
{
  /* The grandchild must not send anything before we have sent RT_MSG_PID: its next message
   * (HOOKS, where an exec is moved into the container's cgroups) would otherwise reach the parent
   * first and be applied to our pid, and a quick process could even exit before the parent opens
   * its pidfd (ESRCH under containerd's shim, a subreaper). It waits for EOF on this pipe: our
   * write end closes when we exit, after the send. */
  int gate[2];
  long r = SC(SYS_pipe2, gate, O_CLOEXEC);
  if (r < 0)
    return (int)r;
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.exit_signal = SIGCHLD;
  long pid = SC(SYS_clone3, &args, sizeof args);
  if (pid == -ENOSYS)
    pid = SC(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
  if (pid < 0) {
    SC(SYS_close, gate[0]);
    SC(SYS_close, gate[1]);
    return (int)pid;
  }
  if (pid > 0) {
    SC(SYS_close, gate[0]);
    rt_send(p, RT_MSG_PID, RT_STEP_FORK, -1, 0, pid);
    syscall(SYS_exit_group, 0);
    __builtin_unreachable();
  }
  SC(SYS_close, gate[1]);
  p->forked = 1;
  char b;
  do
    r = SC(SYS_read, gate[0], &b, 1);
  while (r == -EINTR);
  SC(SYS_close, gate[0]);
  return 0;
}

int rt_step_session(struct rt_plan *p, int *item)
{
  *item = 0;
  long r = SC(SYS_setsid);
  if (r < 0 && r != -EPERM)
    return (int)r;
  if (p->new_keyring) {
    *item = 1;
    /* A fresh session keyring keeps the host's keys out of the container (runc does the same);
     * kernels without keyrings just skip it. */
    r = SC(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, STR(p, p->keyring_name), 0, 0, 0);
    if (r < 0 && r != -ENOSYS)
      return (int)r;
  }
  return 0;
}
