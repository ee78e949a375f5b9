/* Syscall probe for the seccomp scenarios: a static binary run inside containers that tries each
 * named syscall once, with arguments chosen so that the kernel, if the filter lets the call through,
 * answers with something other than EPERM (EFAULT, EINVAL, EBADF, ENOENT, 0...), and prints
 *   <probe> <OK | errno name | SIG<name>>
 * one line per probe. Each probe runs in a forked child, so a filter that kills (SIGSYS) is seen.
 * It never changes anything outside the container. Built by test/engine/seccomp/probe.ts.
 *   sysprobe            every probe
 *   sysprobe NAME...    the named probes
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define AF_VSOCK_ 40
#define X32_BIT 0x40000000L

/* A raw syscall whose -1/errno result becomes 0 or -errno. */
#define SYS(...) (syscall(__VA_ARGS__) < 0 ? -errno : 0)

/* The i386 entry point from a 64-bit process (int 0x80): the kernel filters it as AUDIT_ARCH_I386. */
static long int80(long nr, long a, long b, long c) {
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory", "r8", "r9", "r10", "r11");
  return ret < 0 ? ret : 0;
}

/* clone(2) without a new stack, fork-style; the child exits at once. */
static long clone_flags(unsigned long flags) {
  long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
  if (pid < 0) return -errno;
  if (pid == 0) _exit(0);
  waitpid((pid_t)pid, NULL, 0);
  return 0;
}

static long p_getpid(void) { return SYS(SYS_getpid); }
static long p_uname(void) { struct utsname u; return uname(&u) < 0 ? -errno : 0; }
static long p_socket_unix(void) { return SYS(SYS_socket, AF_UNIX, SOCK_STREAM, 0); }
static long p_socket_vsock(void) { return SYS(SYS_socket, AF_VSOCK_, SOCK_STREAM, 0); }
static long p_personality_query(void) { return SYS(SYS_personality, 0xffffffffUL); }
static long p_personality_linux32(void) { return SYS(SYS_personality, 0x0020000UL); }
/* ADDR_NO_RANDOMIZE: not on Docker's list of personalities. */
static long p_personality_no_randomize(void) { return SYS(SYS_personality, 0x0040000UL); }
static long p_clone_plain(void) { return clone_flags(0); }
static long p_clone_newuser(void) { return clone_flags(CLONE_NEWUSER); }
static long p_clone_newuts(void) { return clone_flags(CLONE_NEWUTS); }
/* size 0 is below CLONE_ARGS_SIZE_VER0: EINVAL once the call reaches the kernel. */
static long p_clone3(void) { return SYS(SYS_clone3, NULL, 0); }
static long p_unshare0(void) { return SYS(SYS_unshare, 0); }
static long p_setns_badfd(void) { return SYS(SYS_setns, -1, 0); }
/* The source string is copied before any permission check: EFAULT. */
static long p_mount_efault(void) { return SYS(SYS_mount, (char *)1, "/tmp", NULL, 0, NULL); }
/* Unknown umount flags are refused first: EINVAL. */
static long p_umount2_einval(void) { return SYS(SYS_umount2, "/", 0x100); }
static long p_pivot_root(void) { return SYS(SYS_pivot_root, "/nonexistent-a", "/nonexistent-b"); }
static long p_sethostname(void) {
  struct utsname u;
  if (uname(&u) < 0) return -errno;
  return SYS(SYS_sethostname, u.nodename, strlen(u.nodename));
}
/* An unknown keyctl command: EOPNOTSUPP. */
static long p_keyctl(void) { return SYS(SYS_keyctl, 9999, 0, 0, 0, 0); }
/* UFFD_USER_MODE_ONLY passes the privilege check, the stray 0x100 bit then gives EINVAL. */
static long p_userfaultfd(void) { return SYS(SYS_userfaultfd, 1 | 0x100); }
static long p_io_uring_setup(void) { return SYS(SYS_io_uring_setup, 0, NULL); }
static long p_pkey_alloc(void) { return SYS(SYS_pkey_alloc, 0, 0); }
static long p_name_to_handle_at(void) {
  struct { unsigned int bytes; int type; } fh = {0, 0};
  int mnt;
  return SYS(SYS_name_to_handle_at, AT_FDCWD, "/", &fh, &mnt, 0);
}
static long p_open_by_handle_at(void) {
  struct { unsigned int bytes; int type; unsigned char h[8]; } fh = {8, 1, {0}};
  return SYS(SYS_open_by_handle_at, -1, &fh, O_RDONLY);
}
static long p_process_vm_readv(void) { return SYS(SYS_process_vm_readv, getpid(), NULL, 0, NULL, 0, 0); }
/* Nobody traces us: ESRCH. */
static long p_ptrace(void) { return SYS(SYS_ptrace, PTRACE_PEEKDATA, getpid(), 0, 0); }
/* KCMP_VM of ourselves with ourselves: 0. */
static long p_kcmp(void) { return SYS(SYS_kcmp, getpid(), getpid(), 1, 0, 0); }
/* Bad magic numbers: EINVAL (after the CAP_SYS_BOOT check). */
static long p_reboot(void) { return SYS(SYS_reboot, 0, 0, 0, NULL); }
static long p_delete_module(void) { return SYS(SYS_delete_module, "keel_no_such_module", O_NONBLOCK); }
/* acct(NULL): accounting off in this pid namespace, which it already is. */
static long p_acct(void) { return SYS(SYS_acct, NULL); }
/* Level 5 is out of range: EINVAL (or ENOSYS without CONFIG_X86_IOPL_IOPERM). */
static long p_iopl(void) { return SYS(SYS_iopl, 5); }
/* CLOCK_MONOTONIC cannot be set: EINVAL before any capability check. */
static long p_clock_settime(void) {
  struct timespec ts = {0, 0};
  return SYS(SYS_clock_settime, CLOCK_MONOTONIC, &ts);
}
/* Neither time nor zone given: a no-op that still needs CAP_SYS_TIME. */
static long p_settimeofday(void) { return SYS(SYS_settimeofday, NULL, NULL); }
/* No controlling terminal: nothing to hang up. */
static long p_vhangup(void) { return SYS(SYS_vhangup); }
static long p_get_mempolicy(void) { return SYS(SYS_get_mempolicy, NULL, NULL, 0, NULL, 0); }
/* SYSLOG_ACTION_SIZE_BUFFER: reads the log buffer's size. */
static long p_syslog(void) { return SYS(SYS_syslog, 10, NULL, 0); }
static long p_bpf(void) { return SYS(SYS_bpf, 9999, NULL, 0); }
/* The attr pointer is read first: EFAULT. */
static long p_perf_event_open(void) { return SYS(SYS_perf_event_open, NULL, 0, -1, -1, 0); }
static long p_chroot(void) { return SYS(SYS_chroot, "/nonexistent-keel"); }
static long p_i386_getpid(void) { return int80(20, 0, 0, 0); }
static long p_i386_keyctl(void) { return int80(288, 9999, 0, 0); }
/* x32 numbers: ENOSYS from a kernel without CONFIG_X86_X32_ABI once the filter lets them by. */
static long p_x32_getpid(void) { return SYS(X32_BIT | 39); }
static long p_x32_keyctl(void) { return SYS(X32_BIT | 250, 9999, 0, 0, 0, 0); }

static const struct {
  const char *name;
  long (*fn)(void);
} probes[] = {
#define P(n) {#n, p_##n}
    P(getpid), P(uname), P(socket_unix), P(socket_vsock), P(personality_query), P(personality_linux32),
    P(personality_no_randomize), P(clone_plain), P(clone_newuser), P(clone_newuts), P(clone3), P(unshare0),
    P(setns_badfd), P(mount_efault), P(umount2_einval), P(pivot_root), P(sethostname), P(keyctl), P(userfaultfd),
    P(io_uring_setup), P(pkey_alloc), P(name_to_handle_at), P(open_by_handle_at), P(process_vm_readv), P(ptrace),
    P(kcmp), P(reboot), P(delete_module), P(acct), P(iopl), P(clock_settime), P(settimeofday), P(vhangup),
    P(get_mempolicy), P(syslog), P(bpf), P(perf_event_open), P(chroot), P(i386_getpid), P(i386_keyctl),
    P(x32_getpid), P(x32_keyctl),
#undef P
};

static int run(int i) {
  char line[128];
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    long r = probes[i].fn();
    const char *what = r == 0 ? "OK" : strerrorname_np((int)-r);
    int n = snprintf(line, sizeof line, "%s %s\n", probes[i].name, what ? what : "E?");
    if (write(1, line, (size_t)n) != n) _exit(2);
    _exit(0);
  }
  int st;
  if (waitpid(pid, &st, 0) < 0) return -1;
  if (WIFSIGNALED(st)) printf("%s SIG%s\n", probes[i].name, sigabbrev_np(WTERMSIG(st)));
  else if (WEXITSTATUS(st) != 0) return -1;
  return 0;
}

int main(int argc, char **argv) {
  int n = (int)(sizeof probes / sizeof probes[0]);
  if (argc < 2) {
    for (int i = 0; i < n; i++)
      if (run(i) < 0) return 1;
    return 0;
  }
  for (int a = 1; a < argc; a++) {
    int found = 0;
    for (int i = 0; i < n; i++)
      if (strcmp(argv[a], probes[i].name) == 0) {
        found = 1;
        if (run(i) < 0) return 1;
      }
    if (!found) {
      fprintf(stderr, "sysprobe: unknown probe %s\n", argv[a]);
      return 2;
    }
  }
  return 0;
}
