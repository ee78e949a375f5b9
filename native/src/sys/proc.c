/* Parent-side process and socket wrappers (pidfd, waitid, poll, SCM_RIGHTS). Each returns >= 0 or
 * -errno; no logic beyond the call itself. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rt/proc.h"

int rt_socketpair_seqpacket(int fds[2])
{
  return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0 ? -errno : 0;
}

int rt_pidfd_open(int pid)
{
  long r = syscall(SYS_pidfd_open, pid, 0);
  return r < 0 ? -errno : (int)r;
}

int rt_pidfd_send_signal(int pidfd, int sig)
{
  return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

int rt_waitid(int idtype, int id, int options, int *pid, int *code, int *status)
{
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int r;
  do
    r = waitid((idtype_t)idtype, (id_t)id, &si, WEXITED | options);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return -errno;
  *pid = si.si_pid;
  *code = si.si_code;
  *status = si.si_status;
  return 0;
}

static long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int rt_poll1(int fd, int events, int timeout_ms)
{
  long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
  for (;;) {
    struct pollfd p = {.fd = fd, .events = (short)events};
    int left = deadline < 0 ? -1 : (int)(deadline - now_ms());
    if (deadline >= 0 && left < 0)
      left = 0;
    int r = poll(&p, 1, left);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return -errno;
    return r == 0 ? 0 : p.revents;
  }
}

ssize_t rt_recv_msg(int fd, void *buf, size_t len, int timeout_ms, int *fd_out)
{
  *fd_out = -1;
  int ready = rt_poll1(fd, POLLIN, timeout_ms);
  if (ready < 0)
    return ready;
  if (ready == 0)
    return -ETIMEDOUT;
  struct iovec iov = {.iov_base = buf, .iov_len = len};
  union {
    char b[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b};
  ssize_t n;
  do
    n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -errno;
  struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
  if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
    memcpy(fd_out, CMSG_DATA(c), sizeof(int));
  return n;
}

int rt_send_msg(int fd, const void *buf, size_t len, int send_fd)
{
  struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
  union {
    char b[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  memset(&u, 0, sizeof u);
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
  if (send_fd >= 0) {
    mh.msg_control = u.b;
    mh.msg_controllen = sizeof u.b;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &send_fd, sizeof(int));
  }
  ssize_t n;
  do
    n = sendmsg(fd, &mh, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n < 0 ? -errno : 0;
}

int rt_set_child_subreaper(int on)
{
  return prctl(PR_SET_CHILD_SUBREAPER, on ? 1 : 0, 0, 0, 0) < 0 ? -errno : 0;
}

int rt_cloexec_from(int first)
{
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
  return syscall(SYS_close_range, (unsigned)first, ~0U, CLOSE_RANGE_CLOEXEC) < 0 ? -errno : 0;
}

int rt_unix_send_fd(const char *path, const void *payload, size_t len, int fd)
{
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  size_t n = strlen(path);
  if (n >= sizeof sa.sun_path)
    return -ENAMETOOLONG;
  strcpy(sa.sun_path, path);
  socklen_t salen = sizeof sa;
  if (path[0] == '@') {
    /* "@name" is the abstract socket "\0name", as Go's net.Dial (runc) reads it. */
    sa.sun_path[0] = 0;
    salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
  }
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return -errno;
  int r = 0;
  if (connect(s, (struct sockaddr *)&sa, salen) < 0)
    r = -errno;
  else
    r = rt_send_msg(s, payload, len, fd);
  close(s);
  return r;
}
