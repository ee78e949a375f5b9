/* exec-stub: the last program keel runs before the container's own. The child execs this static
 * stub from a sealed memfd (native/README.md, CVE-2019-5736), and the stub execs the container's
 * program by path, so the kernel names the process and builds a script's argv exactly as for
 * runc's execve. argv is [path, argv0, argv1, ...]; it runs execve(path, argv + 1, envp).
 * Freestanding: no libc, raw syscalls, nothing but execve, write and exit. */
#include <asm/unistd.h>

#if defined(__x86_64__)
static long sc3(long n, long a, long b, long c)
{
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}
__asm__(".text\n.global _start\n_start:\n xor %rbp,%rbp\n mov %rsp,%rdi\n and $-16,%rsp\n call stub_main\n hlt\n");
#elif defined(__aarch64__)
static long sc3(long n, long a, long b, long c)
{
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
  return x0;
}
__asm__(".text\n.global _start\n_start:\n mov x29, #0\n mov x0, sp\n bl stub_main\n brk #0\n");
#else
#error "exec-stub: unsupported architecture"
#endif

static long len(const char *s)
{
  long n = 0;
  while (s[n])
    n++;
  return n;
}

__attribute__((noreturn, used)) void stub_main(long *sp)
{
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  char **envp = argv + argc + 1;
  if (argc >= 2) {
    sc3(__NR_execve, (long)argv[0], (long)(argv + 1), (long)envp);
    /* Reached only if the file changed since keel checked it: say so and fail like a shell. */
    static const char msg[] = "keel: exec failed: ";
    sc3(__NR_write, 2, (long)msg, sizeof msg - 1);
    sc3(__NR_write, 2, (long)argv[0], len(argv[0]));
    sc3(__NR_write, 2, (long)"\n", 1);
  } else {
    /* Run as the target itself: a path that resolved to /proc/self/exe after the check. */
    static const char msg[] = "keel: exec stub: nothing to exec (the program was replaced by /proc/self/exe)\n";
    sc3(__NR_write, 2, (long)msg, sizeof msg - 1);
  }
  for (;;)
    sc3(__NR_exit_group, 127, 0, 0);
}
