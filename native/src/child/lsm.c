/* Step APPARMOR: ask AppArmor to confine the next execve with process.apparmorProfile, the way
 * runc's apparmor.ApplyProfile does ("exec <profile>" into the task's own attr/exec). The write only
 * arms an on-exec transition, so nothing the child does before EXEC runs confined. */
#include <fcntl.h>
#include <string.h>

#include "child.h"

/* "<tid>/attr/<leaf>": procfs' thread-self and self are symlinks, which rt_open_proc refuses to
 * follow, so the task is named by number. A /proc from another pid namespace cannot make us write
 * to a different task: the kernel only lets a task write its own attr files (EACCES otherwise). */
static int tid_attr(char *buf, size_t size, long tid, const char *leaf)
{
  char digits[24];
  int n = 0;
  unsigned long v = (unsigned long)tid;
  do
    digits[n++] = (char)('0' + v % 10);
  while ((v /= 10) && n < (int)sizeof digits);
  size_t len = strlen(leaf);
  if ((size_t)n + 6 + len + 1 > size)
    return -ENAMETOOLONG;
  char *o = buf;
  while (n > 0)
    *o++ = digits[--n];
  memcpy(o, "/attr/", 6);
  memcpy(o + 6, leaf, len + 1);
  return 0;
}

int rt_step_apparmor(struct rt_plan *p, int *item)
{
  const char *profile = STR(p, p->apparmor_profile);
  char cmd[RT_PATH_MAX];
  size_t len = strlen(profile);
  if (len + 6 > sizeof cmd)
    return -ENAMETOOLONG;
  memcpy(cmd, "exec ", 5);
  memcpy(cmd + 5, profile, len + 1);

  long tid = SC(SYS_gettid);
  char rel[64];
  /* Linux >= 5.8 has one directory per LSM; older kernels only the shared attr/exec, which is
   * AppArmor's when it is the (only) major LSM. */
  *item = 0;
  int r = tid_attr(rel, sizeof rel, tid, "apparmor/exec");
  int fd = r < 0 ? r : rt_open_proc(rel, O_WRONLY);
  if (fd == -ENOENT) {
    *item = 1;
    r = tid_attr(rel, sizeof rel, tid, "exec");
    fd = r < 0 ? r : rt_open_proc(rel, O_WRONLY);
  }
  if (fd < 0)
    return fd;
  *item = 2;
  long w;
  do
    w = SC(SYS_write, fd, cmd, len + 5);
  while (w == -EINTR);
  SC(SYS_close, fd);
  if (w < 0)
    return (int)w;
  return w == (long)(len + 5) ? 0 : -EIO;
}
