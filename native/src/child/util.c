/* Child-side plumbing: sync-socket records, fixed-buffer strings and in-root path resolution.
 * Runs after clone: raw syscalls only, nothing that allocates or locks. */
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "child.h"

void rt_send(struct rt_plan *p, uint32_t type, int step, int item, int err, int64_t value)
{
  struct rt_msg m = {.type = type, .step = step, .item = item, .err = err, .value = value};
  long r;
  do
    r = SC(SYS_sendto, p->sync_fd, &m, sizeof m, MSG_NOSIGNAL, NULL, 0);
  while (r == -EINTR);
}

int rt_send_fd(struct rt_plan *p, uint32_t type, int step, int fd)
{
  struct rt_msg m = {.type = type, .step = step, .item = -1};
  struct iovec iov = {.iov_base = &m, .iov_len = sizeof m};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  memset(&u, 0, sizeof u);
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  long r;
  do
    r = SC(SYS_sendmsg, p->sync_fd, &mh, MSG_NOSIGNAL);
  while (r == -EINTR);
  return r < 0 ? (int)r : 0;
}

/* Waits for one record of type `want`; an fd riding along is returned in *fd_out (or closed). */
int rt_recv(struct rt_plan *p, uint32_t want, int *fd_out)
{
  struct rt_msg m;
  struct iovec iov = {.iov_base = &m, .iov_len = sizeof m};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  long r;
  do
    r = SC(SYS_recvmsg, p->sync_fd, &mh, MSG_CMSG_CLOEXEC);
  while (r == -EINTR);
  if (r < 0)
    return (int)r;
  if (r != sizeof m)
    return -EPIPE; /* EOF: the parent is gone */
  int fd = -1;
  struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
  if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
  if (fd_out)
    *fd_out = fd;
  else if (fd >= 0)
    SC(SYS_close, fd);
  return m.type == want ? 0 : -EPROTO;
}

void rt_fail(struct rt_plan *p, int step, int item, int err)
{
  rt_send(p, RT_MSG_ERROR, step, item, err < 0 ? -err : err, 0);
  syscall(SYS_exit_group, 1);
  __builtin_unreachable();
}

void rt_debug(struct rt_plan *p, int step)
{
  rt_send(p, RT_MSG_DEBUG, step, -1, 0, 0);
}

size_t rt_strlcpy(char *dst, const char *src, size_t size)
{
  size_t n = strlen(src);
  if (size) {
    size_t c = n < size - 1 ? n : size - 1;
    memcpy(dst, src, c);
    dst[c] = 0;
  }
  return n;
}

int rt_join(char *dst, size_t size, const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b);
  if (la + lb + 1 > size)
    return -ENAMETOOLONG;
  memcpy(dst, a, la);
  memcpy(dst + la, b, lb + 1);
  return 0;
}

void rt_fdpath(char *buf, int fd)
{
  char digits[16];
  int n = 0;
  unsigned v = (unsigned)fd;
  do
    digits[n++] = (char)('0' + v % 10);
  while ((v /= 10) && n < 15);
  memcpy(buf, "/proc/self/fd/", 14);
  for (int i = 0; i < n; i++)
    buf[14 + i] = digits[n - 1 - i];
  buf[14 + n] = 0;
}

/* openat2(RESOLVE_IN_ROOT) keeps every symlink and ".." inside rootfd, which closes the
 * symlink-exchange class (CVE-2021-30465): the mount then targets the fd, never a re-walked path. */
int rt_open_in_root(int rootfd, const char *path, int flags, int nofollow)
{
  struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0)),
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  long r;
  do
    r = SC(SYS_openat2, rootfd, path, &how, sizeof how);
  while (r == -EINTR || r == -EAGAIN);
  return (int)r;
}

/* mkdir -p inside the root: each missing component is created with mkdirat on the fd of its
 * already-resolved parent, so nothing is ever created outside the root (CVE-2024-45310). */
int rt_mkdir_in_root(int rootfd, const char *path, int file_last)
{
  char buf[RT_PATH_MAX];
  size_t len = strlen(path);
  if (len >= sizeof buf)
    return -ENAMETOOLONG;
  memcpy(buf, path, len + 1);
  size_t i = 0;
  while (i < len) {
    while (i < len && buf[i] == '/')
      i++;
    if (i >= len)
      break;
    size_t start = i;
    while (i < len && buf[i] != '/')
      i++;
    char saved = buf[i];
    buf[i] = 0;
    int fd = rt_open_in_root(rootfd, buf, O_PATH, 0);
    if (fd >= 0) {
      SC(SYS_close, fd);
      buf[i] = saved;
      continue;
    }
    if (fd != -ENOENT)
      return fd;
    /* Create buf[start..i) inside its parent buf[0..start). */
    char name[256];
    if (i - start >= sizeof name)
      return -ENAMETOOLONG;
    memcpy(name, buf + start, i - start);
    name[i - start] = 0;
    char psaved = buf[start];
    buf[start] = 0;
    int parent = rt_open_in_root(rootfd, start ? buf : "/", O_PATH | O_DIRECTORY, 0);
    buf[start] = psaved;
    if (parent < 0)
      return parent;
    long r;
    if (i >= len && file_last)
      r = SC(SYS_mknodat, parent, name, S_IFREG | 0644, 0);
    else
      r = SC(SYS_mkdirat, parent, name, 0755);
    SC(SYS_close, parent);
    if (r < 0 && r != -EEXIST)
      return (int)r;
    buf[i] = saved;
  }
  return 0;
}
