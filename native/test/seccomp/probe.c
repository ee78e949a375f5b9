/* Test helper for src/runtime/seccomp.test.ts: installs a BPF program read from a file the way the
 * container child does (no_new_privs + seccomp(2)), then runs syscall probes and prints their results.
 * Usage: probe <prog.bin> <flags> <probe>...   where a probe is
 *   sys:<nr>[:<arg>...] raw syscall(nr, args...)        prints "<probe> ok" or "<probe> errno=<e>"
 *   int80:<nr>[:<arg0>] an i386 syscall through int $0x80 (seen by seccomp as AUDIT_ARCH_I386; x86_64 only)
 *   mkdir:<path>        mkdir(path, 0700)
 *   listener            prints "listener fd=<n>" (the fd seccomp() returned with NEW_LISTENER)
 *   send:<sock>         sends the listener fd over the socket fd <sock> (SCM_RIGHTS), as the child does
 *   notify:<path>       a forked child mkdirs path; we answer its notification with EXDEV and print
 *                       "notify nr=<nr> child=<errno>"
 * After the install only raw syscalls and write(2) are used, so strict allow-lists stay testable. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static struct sock_filter prog[4096];

static void out(const char *a, const char *b, long n)
{
  char line[256];
  size_t len = 0;
  for (const char *s = a; *s && len < 200; s++)
    line[len++] = *s;
  line[len++] = ' ';
  for (const char *s = b; *s && len < 230; s++)
    line[len++] = *s;
  if (n >= 0) {
    char digits[24];
    int d = 0;
    do {
      digits[d++] = (char)('0' + n % 10);
      n /= 10;
    } while (n && d < 20);
    while (d)
      line[len++] = digits[--d];
  }
  line[len++] = '\n';
  (void)syscall(SYS_write, 1, line, len);
}

static void report(const char *probe, long r)
{
  if (r < 0)
    out(probe, "errno=", errno);
  else
    out(probe, "ok", -1);
}

#if defined(__x86_64__)
static long int80(long nr, long a0)
{
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a0) : "memory", "r8", "r9", "r10", "r11");
  return ret;
}
#endif

static int notify_probe(int listener, const char *path)
{
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    long r = syscall(SYS_mkdir, path, 0700);
    _exit(r < 0 ? errno : 0);
  }
  struct seccomp_notif req;
  struct seccomp_notif_resp resp;
  memset(&req, 0, sizeof req);
  if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
    return -1;
  memset(&resp, 0, sizeof resp);
  resp.id = req.id;
  resp.error = -EXDEV;
  if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0)
    return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) < 0)
    return -1;
  out("notify", "nr=", req.data.nr);
  out("notify", "child=", WIFEXITED(status) ? WEXITSTATUS(status) : 255);
  return 0;
}

int main(int argc, char **argv)
{
  if (argc < 3)
    return 2;
  int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 3;
  ssize_t n = read(fd, prog, sizeof prog);
  close(fd);
  if (n <= 0 || n % 8 != 0)
    return 4;
  unsigned flags = (unsigned)strtoul(argv[2], NULL, 0);
  struct sock_fprog fprog = {.len = (unsigned short)(n / 8), .filter = prog};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return 5;
  long listener = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
  if (listener < 0) {
    out("install", "errno=", errno);
    return 6;
  }
  for (int i = 3; i < argc; i++) {
    const char *p = argv[i];
    if (strncmp(p, "sys:", 4) == 0) {
      char *end;
      long nr = strtol(p + 4, &end, 0);
      unsigned long a[6] = {0, 0, 0, 0, 0, 0};
      for (int k = 0; k < 6 && *end == ':'; k++)
        a[k] = strtoul(end + 1, &end, 0);
      report(p, syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]));
#if defined(__x86_64__)
    } else if (strncmp(p, "int80:", 6) == 0) {
      char *end;
      long nr = strtol(p + 6, &end, 0);
      long a0 = *end == ':' ? strtol(end + 1, NULL, 0) : 0;
      long r = int80(nr, a0);
      if (r < 0 && r > -4096)
        out(p, "errno=", -r);
      else
        out(p, "ok", -1);
#endif
    } else if (strncmp(p, "mkdir:", 6) == 0) {
      report("mkdir", syscall(SYS_mkdir, p + 6, 0700));
    } else if (strncmp(p, "send:", 5) == 0) {
      union {
        char b[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
      } u;
      int lfd = (int)listener;
      struct iovec iov = {.iov_base = "L", .iov_len = 1};
      struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b};
      struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int));
      memcpy(CMSG_DATA(c), &lfd, sizeof lfd);
      report("send", sendmsg(atoi(p + 5), &mh, 0));
    } else if (strcmp(p, "listener") == 0) {
      out("listener", "fd=", listener);
    } else if (strncmp(p, "notify:", 7) == 0) {
      if (notify_probe((int)listener, p + 7) < 0)
        out("notify", "failed errno=", errno);
    } else {
      return 7;
    }
  }
  return 0;
}
