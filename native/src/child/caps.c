/* Identity steps of the child: hostname, rlimits, bounding set, user and groups, capability sets,
 * no_new_privs. Order matters (capabilities(7)): the bounding set is dropped while CAP_SETPCAP is
 * still effective, ids change with PR_SET_KEEPCAPS, and capset runs last. Raw syscalls only. */
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/resource.h>

#include "child.h"

int rt_step_hostname(struct rt_plan *p, int *item)
{
  if (p->hostname) {
    *item = 0;
    const char *h = STR(p, p->hostname);
    long r = SC(SYS_sethostname, h, strlen(h));
    if (r < 0)
      return (int)r;
  }
  if (p->domainname) {
    *item = 1;
    const char *d = STR(p, p->domainname);
    long r = SC(SYS_setdomainname, d, strlen(d));
    if (r < 0)
      return (int)r;
  }
  return 0;
}

int rt_step_rlimits(struct rt_plan *p, int *item)
{
  for (uint32_t i = 0; i < p->n_rlimits; i++) {
    *item = (int)i;
    struct rlimit64 {
      uint64_t cur, max;
    } lim = {p->rlimits[i].soft, p->rlimits[i].hard};
    long r = SC(SYS_prlimit64, 0, p->rlimits[i].resource, &lim, NULL);
    if (r < 0)
      return (int)r;
  }
  return 0;
}

static int has_cap(uint64_t mask, unsigned cap)
{
  return (int)((mask >> cap) & 1);
}

int rt_step_bounding(struct rt_plan *p, int *item)
{
  for (unsigned c = 0; c <= p->cap_last && c < 64; c++) {
    if (has_cap(p->cap_bounding, c))
      continue;
    *item = (int)c;
    long r = SC(SYS_prctl, PR_CAPBSET_DROP, c, 0, 0, 0);
    if (r < 0 && r != -EINVAL)
      return (int)r;
  }
  return 0;
}

int rt_step_user(struct rt_plan *p, int *item)
{
  long r;
  if (p->set_groups) {
    *item = 0;
    r = SC(SYS_setgroups, p->n_groups, p->groups);
    if (r < 0)
      return (int)r;
  }
  /* Keep the permitted set across the uid change so that capset can grant the configured sets. */
  r = SC(SYS_prctl, PR_SET_KEEPCAPS, 1, 0, 0, 0);
  if (r < 0)
    return (int)r;
  *item = 1;
  r = SC(SYS_setresgid, p->gid, p->gid, p->gid);
  if (r < 0)
    return (int)r;
  *item = 2;
  r = SC(SYS_setresuid, p->uid, p->uid, p->uid);
  if (r < 0)
    return (int)r;
  *item = 3;
  SC(SYS_umask, p->umask);
  SC(SYS_prctl, PR_SET_KEEPCAPS, 0, 0, 0, 0);
  return 0;
}

int rt_step_caps(struct rt_plan *p, int *item)
{
  *item = 0;
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  for (int i = 0; i < 2; i++) {
    data[i].effective = (uint32_t)(p->cap_effective >> (32 * i));
    data[i].permitted = (uint32_t)(p->cap_permitted >> (32 * i));
    data[i].inheritable = (uint32_t)(p->cap_inheritable >> (32 * i));
  }
  long r = SC(SYS_capset, &hdr, data);
  if (r < 0)
    return (int)r;
  *item = 1;
  r = SC(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (r < 0 && r != -EINVAL)
    return (int)r;
  for (unsigned c = 0; c <= p->cap_last && c < 64; c++) {
    if (!has_cap(p->cap_ambient, c))
      continue;
    *item = 100 + (int)c;
    /* An ambient capability must also be permitted and inheritable; runc only warns, and so do we
     * by skipping it (the parent validated the names). */
    SC(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0);
  }
  return 0;
}

int rt_step_nnp(struct rt_plan *p)
{
  (void)p;
  return (int)SC(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/* Installs the BPF program the parent compiled with libseccomp (no library code runs here). With
 * SCMP_ACT_NOTIFY the kernel returns a listener fd, handed to the parent for the seccomp agent. */
int rt_step_seccomp(struct rt_plan *p)
{
  struct sock_fprog prog = {.len = (unsigned short)p->seccomp_len, .filter = (struct sock_filter *)p->seccomp_prog};
  long r = SC(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->seccomp_flags, &prog);
  if (r < 0)
    return (int)r;
  if (!p->seccomp_notify)
    return 0;
  int lfd = (int)r;
  int s = rt_send_fd(p, RT_MSG_SECCOMP_REQ, RT_STEP_SECCOMP, lfd);
  SC(SYS_close, lfd);
  if (s < 0)
    return s;
  return rt_recv(p, RT_MSG_SECCOMP_FD, NULL);
}
