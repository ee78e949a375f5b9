/* Conformance probe: a static multi-tool run inside containers (in the manner of crun's tests/init.c).
 * It only observes and reports; it never changes the host. Built by conformance/lib/probe.ts.
 *   probe report            JSON: ids, groups, caps, rlimits, cwd, env, uname, umask, isatty, ns, mountinfo
 *   probe open PATH [r|w]   open(2) a path; prints "ok" or the errno name, exit 0 either way
 *   probe write PATH DATA   write DATA to PATH; prints "ok" or the errno name
 *   probe read PATH         prints the byte count read until EOF, or the errno name
 *   probe segv              dies of a real SIGSEGV (a forced signal, so it kills a pid-namespace init too)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

extern char **environ;

static void jstr(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

/* Prints a file's content as one JSON string ("" if unreadable). */
static void jfile(const char *path) {
  static char buf[1 << 16];
  size_t n = 0;
  int fd = open(path, O_RDONLY);
  if (fd >= 0) {
    ssize_t r;
    while (n < sizeof buf - 1 && (r = read(fd, buf + n, sizeof buf - 1 - n)) > 0) n += (size_t)r;
    close(fd);
  }
  buf[n] = 0;
  jstr(buf);
}

static const char *errname(int e) {
  switch (e) {
  case EPERM: return "EPERM";
  case ENOENT: return "ENOENT";
  case EACCES: return "EACCES";
  case EROFS: return "EROFS";
  case ENOSPC: return "ENOSPC";
  case ENXIO: return "ENXIO";
  case EISDIR: return "EISDIR";
  case EINVAL: return "EINVAL";
  case EIO: return "EIO";
  default: return strerror(e);
  }
}

static void report(void) {
  struct utsname u;
  char cwd[4096];
  gid_t groups[256];
  int ng = getgroups(256, groups);
  mode_t um = umask(0);
  umask(um);
  uname(&u);
  if (!getcwd(cwd, sizeof cwd)) strcpy(cwd, "?");
  printf("{\"pid\":%d,\"uid\":%u,\"gid\":%u,\"euid\":%u,\"egid\":%u,\"groups\":[", getpid(), getuid(), getgid(),
         geteuid(), getegid());
  for (int i = 0; i < ng; i++) printf("%s%u", i ? "," : "", groups[i]);
  printf("],\"umask\":%u,\"cwd\":", um);
  jstr(cwd);
  printf(",\"hostname\":");
  jstr(u.nodename);
  printf(",\"domainname\":");
  jstr(u.domainname);
  printf(",\"isatty\":[%d,%d,%d],\"noNewPrivs\":%d,\"env\":[", isatty(0), isatty(1), isatty(2),
         prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
  for (char **e = environ; *e; e++) {
    if (e != environ) putchar(',');
    jstr(*e);
  }
  static const struct { const char *name; int res; } lims[] = {
      {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_FSIZE", RLIMIT_FSIZE},   {"RLIMIT_DATA", RLIMIT_DATA},
      {"RLIMIT_STACK", RLIMIT_STACK},     {"RLIMIT_CORE", RLIMIT_CORE},     {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_NOFILE", RLIMIT_NOFILE}, {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
      {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_LOCKS", RLIMIT_LOCKS},   {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
      {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},   {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
      {"RLIMIT_RTTIME", RLIMIT_RTTIME},
  };
  /* Limits as decimal strings: RLIM_INFINITY does not fit a JSON number exactly. */
  printf("],\"rlimits\":{");
  for (size_t i = 0; i < sizeof lims / sizeof lims[0]; i++) {
    struct rlimit rl;
    getrlimit(lims[i].res, &rl);
    printf("%s\"%s\":[\"%llu\",\"%llu\"]", i ? "," : "", lims[i].name, (unsigned long long)rl.rlim_cur,
           (unsigned long long)rl.rlim_max);
  }
  printf("},\"ns\":{");
  static const char *nss[] = {"cgroup", "ipc", "mnt", "net", "pid", "user", "uts", "time"};
  for (size_t i = 0; i < sizeof nss / sizeof nss[0]; i++) {
    char p[64], l[128];
    snprintf(p, sizeof p, "/proc/self/ns/%s", nss[i]);
    ssize_t n = readlink(p, l, sizeof l - 1);
    l[n < 0 ? 0 : n] = 0;
    printf("%s\"%s\":", i ? "," : "", nss[i]);
    jstr(l);
  }
  printf("},\"status\":");
  jfile("/proc/self/status");
  printf(",\"mountinfo\":");
  jfile("/proc/self/mountinfo");
  printf(",\"uidMap\":");
  jfile("/proc/self/uid_map");
  printf(",\"gidMap\":");
  jfile("/proc/self/gid_map");
  printf(",\"setgroups\":");
  jfile("/proc/self/setgroups");
  printf("}\n");
}

int main(int argc, char **argv) {
  const char *cmd = argc > 1 ? argv[1] : "report";
  if (!strcmp(cmd, "report")) {
    report();
    return 0;
  }
  if (!strcmp(cmd, "open") && argc > 2) {
    int fd = open(argv[2], argc > 3 && argv[3][0] == 'w' ? O_WRONLY : O_RDONLY);
    puts(fd < 0 ? errname(errno) : "ok");
    return 0;
  }
  if (!strcmp(cmd, "write") && argc > 3) {
    int fd = open(argv[2], O_WRONLY);
    if (fd < 0 || write(fd, argv[3], strlen(argv[3])) < 0) puts(errname(errno));
    else puts("ok");
    return 0;
  }
  if (!strcmp(cmd, "read") && argc > 2) {
    char buf[4096];
    long long total = 0;
    ssize_t n;
    int fd = open(argv[2], O_RDONLY);
    if (fd < 0) {
      puts(errname(errno));
      return 0;
    }
    while ((n = read(fd, buf, sizeof buf)) > 0 && total < (1 << 20)) total += n;
    if (n < 0) puts(errname(errno));
    else printf("%lld\n", total);
    return 0;
  }
  if (!strcmp(cmd, "chdir") && argc > 2) {
    puts(chdir(argv[2]) < 0 ? errname(errno) : "ok");
    return 0;
  }
  if (!strcmp(cmd, "segv")) {
    volatile int *p = NULL;
    *p = 1;
    return 0;
  }
  fprintf(stderr, "probe: unknown command %s\n", cmd);
  return 2;
}
