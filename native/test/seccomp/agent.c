/* Test seccomp agent for src/runtime/seccomp-agent.test.ts (the role of runc's tests/cmd/seccompagent):
 * listens on argv[1], prints "ready", accepts one connection, receives the state JSON with the listener
 * fd (SCM_RIGHTS), prints "state <json>", answers one notification with EXDEV and prints "nr=<nr>". */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char buf[65536];

int main(int argc, char **argv)
{
  if (argc < 2)
    return 2;
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", argv[1]);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(s, 1) < 0)
    return 3;
  printf("ready\n");
  fflush(stdout);
  int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0)
    return 4;
  union {
    char b[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf - 1};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b};
  ssize_t n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
  if (n <= 0)
    return 5;
  buf[n] = 0;
  struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
  if (!cm || cm->cmsg_type != SCM_RIGHTS)
    return 6;
  int fd;
  memcpy(&fd, CMSG_DATA(cm), sizeof fd);
  printf("state %s\n", buf);
  fflush(stdout);
  struct seccomp_notif req;
  memset(&req, 0, sizeof req);
  if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
    printf("recv errno=%d\n", errno);
    return 7;
  }
  struct seccomp_notif_resp resp;
  memset(&resp, 0, sizeof resp);
  resp.id = req.id;
  resp.error = -EXDEV;
  if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0)
    return 8;
  printf("nr=%d pid=%u\n", req.data.nr, req.pid);
  return 0;
}
