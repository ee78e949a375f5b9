/* The child's whole life after clone: the numbered steps of native/include/rt/msg.h, in order, as
 * one flat sequence. It never returns into the runtime: it ends in execve or exit_group(1) after
 * reporting {ERROR, step, item, errno}. Raw syscalls only (STYLE.md §3, "Rules for child code"). */
#include <fcntl.h>
#include <linux/prctl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <string.h>

#include "child.h"

/* The kernel's struct sigaction for rt_sigaction(2). */
struct ksigaction {
  void *handler;
  unsigned long flags;
  void *restorer;
  uint64_t mask;
};

/* Step 1. Name and non-dumpable first: until the final execve this process is a copy of the runtime
 * binary, and /proc/<pid>/exe must not be reachable by anything in the namespaces we are about to
 * join (CVE-2019-5736). Node installed signal handlers; they are meaningless here, so every
 * disposition goes back to SIG_DFL while all signals stay blocked until exec. */
static int rt_step_init(struct rt_plan *p)
{
  SC(SYS_prctl, PR_SET_NAME, p->join_only ? "rt:join" : "rt:init", 0, 0, 0);
  /* Until the parent commits the create, we die with it: a killed `create` must not leave an init
   * blocked in a step that nobody will ever answer (runc's init does the same with its pdeath
   * signal and getppid check). The copy of the parent's socket end is closed for the same reason:
   * holding it, we would never see EOF. */
  if (p->peer_fd >= 0)
    SC(SYS_close, p->peer_fd);
  rt_arm_pdeath(p);
  long r = SC(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (r < 0)
    return (int)r;
  struct ksigaction dfl = {.handler = SIG_DFL};
  for (int sig = 1; sig <= 64; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      SC(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask);
  for (int i = 0; i < 3; i++) {
    if (p->stdio[i] < 0 || p->stdio[i] == i) {
      /* Node marks its own stdio close-on-exec at start-up (uv_disable_stdio_inheritance), so
       * inherited stdio must be made inheritable again or the container starts without 0-2. */
      SC(SYS_fcntl, i, F_SETFD, 0);
      continue;
    }
    /* Move every source out of the way first so that a swap such as [1, 0, 2] still works. */
    long fd = SC(SYS_fcntl, p->stdio[i], F_DUPFD_CLOEXEC, 100);
    if (fd < 0)
      return (int)fd;
    p->stdio[i] = (int)fd;
  }
  for (int i = 0; i < 3; i++) {
    if (p->stdio[i] < 0 || p->stdio[i] == i)
      continue;
    r = SC(SYS_dup3, p->stdio[i], i, 0);
    if (r < 0)
      return (int)r;
  }
  SC(SYS_umask, 0); /* device nodes get exactly their planned mode */
  p->fifo_fd = -1;
  if (p->exec_fifo) {
    r = SC(SYS_openat, AT_FDCWD, STR(p, p->exec_fifo), O_PATH | O_CLOEXEC, 0);
    if (r < 0)
      return (int)r;
    p->fifo_fd = (int)r;
  }
  return 0;
}

/* PR_SET_PDEATHSIG is cleared by every credential change and by fork (prctl(2)): arm it again and
 * check that the parent did not die in between. getppid() cannot tell (it is 0 in a new pid
 * namespace), but the parent holds the only other end of the sync socket: hung up, it is gone. A
 * grandchild after FORK has the short-lived middle process as its parent: it relies on EOF. */
void rt_arm_pdeath(struct rt_plan *p)
{
  if (p->forked)
    return;
  SC(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  struct pollfd pf = {.fd = p->sync_fd, .events = POLLRDHUP};
  if (SC(SYS_poll, &pf, 1, 0) > 0 && (pf.revents & (POLLHUP | POLLRDHUP)))
    syscall(SYS_exit_group, 1);
}

static int joins_user(struct rt_plan *p)
{
  for (uint32_t i = 0; i < p->n_joins; i++)
    if (p->joins[i].flag == CLONE_NEWUSER)
      return 1;
  return 0;
}

#define STEP(n, call)                                                                                                  \
  do {                                                                                                                 \
    rt_debug(p, (n));                                                                                                  \
    item = -1;                                                                                                         \
    int r_ = (call);                                                                                                   \
    if (r_ < 0)                                                                                                        \
      rt_fail(p, (n), item, r_);                                                                                       \
  } while (0)

void rt_child_main(struct rt_plan *p)
{
  int item = -1;
  int rootfd = -1;
  STEP(RT_STEP_INIT, rt_step_init(p));
  if (p->wait_cgroup) {
    rt_send(p, RT_MSG_CGROUP_REQ, RT_STEP_CGROUP, -1, 0, 0);
    STEP(RT_STEP_CGROUP, rt_recv(p, RT_MSG_CGROUP_DONE, NULL));
  }
  if (p->n_joins)
    STEP(RT_STEP_JOIN_NS, rt_step_join_ns(p, &item));
  if (p->unshare_flags)
    STEP(RT_STEP_UNSHARE, rt_step_unshare(p));
  /* Before USERNS: we are non-dumpable, so /proc/self/timens_offsets belongs to the host's root,
   * which we still are until setresuid in the new user namespace. */
  if (p->time_offsets)
    STEP(RT_STEP_TIMENS, rt_step_timens(p, &item));
  if (p->new_userns || joins_user(p)) {
    STEP(RT_STEP_USERNS, rt_step_userns(p));
    rt_arm_pdeath(p);
  }
  if (p->fork_after)
    STEP(RT_STEP_FORK, rt_step_fork(p));
  STEP(RT_STEP_SESSION, rt_step_session(p, &item));
  if (p->join_only) {
    /* exec: the parent moves the process into the container's cgroup(s) here, before it can
     * fork or run anything of the user's (cgroup v1 has no CLONE_INTO_CGROUP). */
    rt_send(p, RT_MSG_HOOKS, RT_STEP_HOOKS, -1, 0, 0);
    STEP(RT_STEP_HOOKS, rt_recv(p, RT_MSG_HOOKS_DONE, NULL));
    /* A container without a mount namespace of its own lives chrooted in the runtime's: follow
     * its init there (rootfs is /proc/<init>/root). */
    if (p->shared_mntns && p->rootfs) {
      STEP(RT_STEP_ROOTFS, rt_step_rootfs(p, &rootfd, &item));
      STEP(RT_STEP_PIVOT, rt_step_pivot(p, rootfd, &item));
    }
  }
  if (!p->join_only) {
    STEP(RT_STEP_ROOTFS, rt_step_rootfs(p, &rootfd, &item));
    STEP(RT_STEP_MOUNTS, rt_step_mounts(p, rootfd, &item));
    STEP(RT_STEP_DEVICES, rt_step_devices(p, rootfd, &item));
    STEP(RT_STEP_SYMLINKS, rt_step_symlinks(p, rootfd, &item));
    STEP(RT_STEP_MKCWD, rt_step_mkcwd(p, rootfd));
    rt_send(p, RT_MSG_HOOKS, RT_STEP_HOOKS, -1, 0, 0);
    STEP(RT_STEP_HOOKS, rt_recv(p, RT_MSG_HOOKS_DONE, NULL));
    STEP(RT_STEP_PIVOT, rt_step_pivot(p, rootfd, &item));
    if (p->rootfs_propagation)
      STEP(RT_STEP_PROPAGATION, rt_step_propagation(p));
  }
  if (p->terminal)
    STEP(RT_STEP_CONSOLE, rt_step_console(p, &item));
  if (!p->join_only) {
    STEP(RT_STEP_SYSCTL, rt_step_sysctl(p, &item));
    STEP(RT_STEP_READONLY, rt_step_readonly(p, &item));
    STEP(RT_STEP_MASKED, rt_step_masked(p, &item));
    if (p->readonly_root || p->readonly_dev)
      STEP(RT_STEP_ROOT_RO, rt_step_root_ro(p, &item));
    STEP(RT_STEP_HOSTNAME, rt_step_hostname(p, &item));
  }
  /* The profile takes effect at EXEC only. It is armed here, the last point that depends on
   * neither seccomp nor the user and capability change (as runc's ApplyProfile before
   * finalizeNamespace): a filter installed below may deny openat2 or write. */
  if (p->apparmor_profile)
    STEP(RT_STEP_APPARMOR, rt_step_apparmor(p, &item));
  /* seccomp(2) without no_new_privs needs CAP_SYS_ADMIN: install before the capabilities and the
   * user change drop it, as runc does; with no_new_privs, as late as possible (below). */
  if (p->seccomp && !p->no_new_privs)
    STEP(RT_STEP_SECCOMP, rt_step_seccomp(p));
  STEP(RT_STEP_RLIMITS, rt_step_rlimits(p, &item));
  if (p->apply_caps)
    STEP(RT_STEP_BOUNDING, rt_step_bounding(p, &item));
  /* The cwd is entered while we are still root (runc finalizeNamespace): a directory the user may
   * not search (0700 /root for uid 42) is still the process's cwd. Refused even to root (a user
   * namespace whose root does not own it), it is tried again as the user below. */
  rt_debug(p, RT_STEP_CWD);
  int cwd = rt_step_cwd(p);
  if (cwd < 0 && cwd != -EACCES && cwd != -EPERM)
    rt_fail(p, RT_STEP_CWD, 0, cwd);
  STEP(RT_STEP_USER, rt_step_user(p, &item));
  rt_arm_pdeath(p);
  if (p->apply_caps)
    STEP(RT_STEP_CAPS, rt_step_caps(p, &item));
  if (p->no_new_privs)
    STEP(RT_STEP_NNP, rt_step_nnp(p));
  if (cwd < 0) {
    rt_debug(p, RT_STEP_CWD);
    cwd = rt_step_cwd(p);
    if (cwd < 0)
      rt_fail(p, RT_STEP_CWD, 1, cwd);
  }
  if (p->seccomp && p->no_new_privs)
    STEP(RT_STEP_SECCOMP, rt_step_seccomp(p));
  STEP(RT_STEP_EXEC, rt_step_exec_resolve(p, &item));
  rt_send(p, RT_MSG_READY, RT_STEP_READY, -1, 0, 0);
  if (p->fifo_fd >= 0) {
    /* create: wait until the parent has recorded the container (COMMIT); EOF means it died or
     * gave up, and nothing would ever start us. No DEBUG record here: the parent reads nothing
     * more, and unread data at its close would reset the socket (ECONNRESET) before COMMIT. */
    int r = rt_recv(p, RT_MSG_COMMIT, NULL);
    if (r < 0)
      rt_fail(p, RT_STEP_READY, -1, r);
  }
  /* From here on we outlive the runtime, as every container init does. */
  SC(SYS_prctl, PR_SET_PDEATHSIG, 0, 0, 0, 0);
  if (p->fifo_fd >= 0)
    STEP(RT_STEP_FIFO, rt_step_fifo(p));
  STEP(RT_STEP_EXEC, rt_step_exec(p));
  __builtin_unreachable();
}
