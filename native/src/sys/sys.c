/* Parent-side wrappers for system calls Node does not offer. Each returns >= 0 or -errno;
 * no allocation policy, no logging, no logic beyond the call itself. */
#include <errno.h>
#include <sys/file.h>
#include <sys/stat.h>

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
