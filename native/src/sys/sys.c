/* Parent-side wrappers for system calls Node does not offer. Each returns >= 0 or -errno;
 * no allocation policy, no logging, no logic beyond the call itself. */
#include <errno.h>
#include <malloc.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "rt/sys.h"

int rt_flock(int fd, int op)
{
  int r;
  do
    r = flock(fd, op);
  while (r < 0 && errno == EINTR);
  return r < 0 ? -errno : 0;
}

int rt_mkfifo(const char *path, mode_t mode)
{
  return mkfifo(path, mode) < 0 ? -errno : 0;
}

ssize_t rt_llistxattr(const char *path, char *buf, size_t size)
{
  ssize_t r = llistxattr(path, buf, size);
  return r < 0 ? -errno : r;
}

ssize_t rt_lgetxattr(const char *path, const char *name, void *buf, size_t size)
{
  ssize_t r = lgetxattr(path, name, buf, size);
  return r < 0 ? -errno : r;
}

int rt_malloc_arena_max(int n)
{
  return mallopt(M_ARENA_MAX, n) == 1 ? 0 : -EINVAL;
}

int rt_malloc_trim(void)
{
  return malloc_trim(0);
}
