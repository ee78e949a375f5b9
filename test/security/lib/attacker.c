/* The in-container attacker of the security regression tests (test/security/). Static, built on
 * first use by attacker.ts. It only probes and reports: it never writes to a file it manages to
 * open through another process's /proc entries, so a failing defence cannot damage the host.
 *
 *   attacker hunt <comm> <fifo> <result>  wait for a process named <comm>, try every /proc door to
 *                                         its executable, write a JSON report, then release <fifo>
 *   attacker fds                          JSON list of this process's open fds and their targets
 *   attacker cwd                          getcwd() and whether ../../.. reaches a marker file
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *res(int r) {
  static char buf[64];
  if (r >= 0) return "ok";
  snprintf(buf, sizeof buf, "errno %d", errno);
  return buf;
}

static int find(const char *comm) {
  DIR *d = opendir("/proc");
  if (!d) return -1;
  struct dirent *e;
  int found = -1;
  while ((e = readdir(d))) {
    int pid = atoi(e->d_name);
    if (pid <= 0 || pid == getpid()) continue;
    char p[64], c[64] = {0};
    snprintf(p, sizeof p, "/proc/%d/comm", pid);
    int fd = open(p, O_RDONLY);
    if (fd < 0) continue;
    ssize_t n = read(fd, c, sizeof c - 1);
    close(fd);
    if (n > 0 && c[n - 1] == '\n') c[n - 1] = 0;
    if (!strcmp(c, comm)) {
      found = pid;
      break;
    }
  }
  closedir(d);
  return found;
}

/* One door of /proc/<pid>: the first success is kept (with the inode reached), else the errno. */
struct door {
  const char *what;
  int flags;
  char result[32];
  unsigned long long dev, ino;
};

static void attempt(struct door *d, int pid) {
  if (!strcmp(d->result, "ok")) return;
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/%s", pid, d->what);
  int fd = open(p, d->flags);
  snprintf(d->result, sizeof d->result, "%s", res(fd));
  if (fd >= 0) {
    struct stat st = {0};
    fstat(fd, &st);
    d->dev = st.st_dev;
    d->ino = st.st_ino;
    close(fd);
  }
}

static int hunt(const char *comm, const char *fifo, const char *result) {
  int pid = -1;
  for (int i = 0; i < 4000 && pid < 0; i++) {
    pid = find(comm);
    if (pid < 0) {
      struct timespec ts = {0, 5 * 1000 * 1000};
      nanosleep(&ts, NULL);
    }
  }
  struct door doors[] = {{"exe", O_RDONLY}, {"exe", O_WRONLY}, {"exe", O_PATH}, {"mem", O_RDONLY}, {"cwd", O_RDONLY},
                         {"root", O_RDONLY}};
  int nd = sizeof doors / sizeof doors[0];
  int entries = 0, opened = 0, readlinks = 0, rounds = 0, released = 0;
  /* Until the fifo has a reader (the target blocked in open(2) of its executable), the target is
   * still the runtime's copy of node: every round of attempts happens before its execve. */
  while (pid > 0 && rounds < 4000) {
    rounds++;
    char p[64], l[512];
    snprintf(p, sizeof p, "/proc/%d/exe", pid);
    if (readlink(p, l, sizeof l) >= 0) readlinks++;
    for (int i = 0; i < nd; i++) attempt(&doors[i], pid);
    /* Root may list /proc/<pid>/fd; following an entry is what ptrace_may_access guards. */
    snprintf(p, sizeof p, "/proc/%d/fd", pid);
    DIR *d = opendir(p);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d))) {
      if (e->d_name[0] == '.') continue;
      n++;
      char q[96];
      snprintf(q, sizeof q, "/proc/%d/fd/%s", pid, e->d_name);
      int fd = open(q, O_PATH);
      if (fd >= 0) {
        opened++;
        close(fd);
      }
    }
    if (d) closedir(d);
    if (n > entries) entries = n;
    int f = open(fifo, O_WRONLY | O_NONBLOCK); /* ENXIO until a reader waits in open(2) */
    if (f >= 0) {
      close(f);
      released = 1;
      break;
    }
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  FILE *out = fopen(result, "w");
  if (!out) return 1;
  fprintf(out, "{\"pid\":%d,\"rounds\":%d,\"released\":%d,\"readlinks\":%d,\"fdEntries\":%d,\"fdOpened\":%d,\"attempts\":{",
          pid, rounds, released, readlinks, entries, opened);
  for (int i = 0; i < nd; i++)
    fprintf(out, "%s\"%s/%s\":{\"result\":\"%s\",\"dev\":%llu,\"ino\":%llu}", i ? "," : "", doors[i].what,
            doors[i].flags == O_RDONLY ? "r" : doors[i].flags == O_WRONLY ? "w" : "path", doors[i].result, doors[i].dev,
            doors[i].ino);
  /* Control: the same door to a dumpable process of the container (ourselves) does open. */
  int fd = open("/proc/self/exe", O_RDONLY);
  fprintf(out, "},\"control\":\"%s\"}\n", res(fd));
  fclose(out);
  for (;;) pause();
}

static int fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d) return 1;
  int self = dirfd(d);
  struct dirent *e;
  printf("[");
  int first = 1;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.' || atoi(e->d_name) == self) continue;
    char p[64], l[512];
    snprintf(p, sizeof p, "/proc/self/fd/%s", e->d_name);
    ssize_t n = readlink(p, l, sizeof l - 1);
    l[n < 0 ? 0 : n] = 0;
    for (char *c = l; *c; c++)
      if (*c == '"' || *c == '\\') *c = '_';
    printf("%s[%s,\"%s\"]", first ? "" : ",", e->d_name, l);
    first = 0;
  }
  printf("]\n");
  closedir(d);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 4 && !strcmp(argv[1], "hunt")) return hunt(argv[2], argv[3], argv[4]);
  if (argc > 1 && !strcmp(argv[1], "fds")) return fds();
  if (argc > 1 && !strcmp(argv[1], "cwd")) {
    char buf[4096];
    const char *c = getcwd(buf, sizeof buf);
    printf("{\"cwd\":\"%s\",\"errno\":%d}\n", c ? c : "", c ? 0 : errno);
    return 0;
  }
  fprintf(stderr, "attacker: unknown command\n");
  return 2;
}
