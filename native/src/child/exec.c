/* Final steps of the child: cwd verification, the exec-fifo wait, and execve of the container
 * process. The executable, its #! interpreters and its ELF PT_INTERP are opened and compared with
 * the runtime's own binary before anything runs (CVE-2019-5736, see native/README.md). */
#include <elf.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include "child.h"

#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

/* CVE-2024-21626: a cwd reached through a leaked host fd is reported by the kernel as
 * "(unreachable)/..."; anything not starting with '/' is outside our root. */
int rt_step_cwd(struct rt_plan *p)
{
  long r = SC(SYS_chdir, STR(p, p->cwd));
  if (r < 0)
    return (int)r;
  char buf[RT_PATH_MAX];
  r = SC(SYS_getcwd, buf, sizeof buf);
  if (r < 0)
    return (int)r;
  return buf[0] == '/' ? 0 : -RT_ERR_UNREACHABLE_CWD;
}

/* Blocks until `start` opens the fifo for reading. The fifo was opened O_PATH before pivot_root;
 * reopening it through /proc/self/fd reaches it although its path is outside the new root. */
int rt_step_fifo(struct rt_plan *p)
{
  char path[32];
  rt_fdpath(path, p->fifo_fd);
  long fd;
  do
    fd = SC(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CLOEXEC, 0);
  while (fd == -EINTR);
  if (fd < 0)
    return (int)fd;
  long r = SC(SYS_write, fd, "0", 1);
  SC(SYS_close, fd);
  if (r >= 0 && p->fifo_hold) {
    /* startContainer hooks: `start` runs them in our namespaces now, then opens the fifo for
     * writing and sends one more byte; no byte (EOF) means a hook failed and we must not exec. */
    do
      fd = SC(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
    while (fd == -EINTR);
    if (fd < 0)
      return (int)fd;
    char b = 0;
    do
      r = SC(SYS_read, fd, &b, 1);
    while (r == -EINTR);
    SC(SYS_close, fd);
    if (r == 0 || b != '1')
      r = -ECANCELED;
  }
  SC(SYS_close, p->fifo_fd);
  p->fifo_fd = -1;
  return r < 0 ? (int)r : 0;
}

static int check_file(struct rt_plan *p, int fd)
{
  struct stat st;
  long r = SC(SYS_fstat, fd, &st);
  if (r < 0)
    return (int)r;
  if ((uint64_t)st.st_dev == p->host_exe_dev && (uint64_t)st.st_ino == p->host_exe_ino)
    return -RT_ERR_HOST_EXE;
  /* execve(2) wants a regular file with an execute bit, root included; refusing here makes it a
   * create error as runc's LookPath does, not a silent exit status 1 after `start`. */
  if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111))
    return -EACCES;
  return 0;
}

/* The ELF interpreter (PT_INTERP) is opened by the kernel by path inside the container: refuse it
 * too when it is the runtime binary. */
static int check_elf_interp(struct rt_plan *p, int fd, const unsigned char *hdr, long n)
{
  if (n < (long)sizeof(Elf64_Ehdr) || memcmp(hdr, ELFMAG, SELFMAG) != 0 || hdr[EI_CLASS] != ELFCLASS64)
    return 0;
  Elf64_Ehdr eh;
  memcpy(&eh, hdr, sizeof eh);
  for (unsigned i = 0; i < eh.e_phnum && i < 64; i++) {
    Elf64_Phdr ph;
    if (SC(SYS_pread64, fd, &ph, sizeof ph, (long)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)) != (long)sizeof ph)
      return -ENOEXEC;
    if (ph.p_type != PT_INTERP)
      continue;
    char interp[RT_PATH_MAX];
    if (ph.p_filesz == 0 || ph.p_filesz >= sizeof interp)
      return -ENOEXEC;
    if (SC(SYS_pread64, fd, interp, ph.p_filesz, (long)ph.p_offset) != (long)ph.p_filesz)
      return -ENOEXEC;
    interp[ph.p_filesz] = 0;
    long ifd = SC(SYS_openat, AT_FDCWD, interp, O_RDONLY | O_CLOEXEC, 0);
    if (ifd < 0)
      return (int)ifd;
    int r = check_file(p, (int)ifd);
    SC(SYS_close, ifd);
    return r;
  }
  return 0;
}

static int is_space(char c)
{
  return c == ' ' || c == '\t';
}

/* Parses "#!interp [arg]" as binfmt_script does: the whole rest of the line is one argument. */
static int parse_shebang(char *hdr, long n, char **interp, char **arg)
{
  hdr[n] = 0;
  char *nl = memchr(hdr, '\n', (size_t)n);
  if (nl)
    *nl = 0;
  char *s = hdr + 2;
  while (is_space(*s))
    s++;
  if (!*s)
    return -ENOEXEC;
  *interp = s;
  while (*s && !is_space(*s))
    s++;
  *arg = NULL;
  if (*s) {
    *s++ = 0;
    while (is_space(*s))
      s++;
    char *end = s + strlen(s);
    while (end > s && is_space(end[-1]))
      *--end = 0;
    if (*s)
      *arg = s;
  }
  return 0;
}

static void reset_signals(void)
{
  uint64_t none = 0;
  SC(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof none);
}

/* Resolves and checks the executable before READY so that a missing or refused binary is a create
 * error (as runc's LookPath before the fifo wait), not a silent exit after `start`. */
int rt_step_exec_resolve(struct rt_plan *p, int *item)
{
  char **av = &p->argv_ptrs[16];
  for (uint32_t i = 0; i < p->n_args; i++)
    av[i] = STR(p, p->args[i]);
  av[p->n_args] = NULL;
  for (uint32_t i = 0; i < p->n_env; i++)
    p->envp_ptrs[i] = STR(p, p->env[i]);
  p->envp_ptrs[p->n_env] = NULL;

  /* execvp(3) over the planned PATH candidates: keep looking past ENOENT/ENOTDIR/EACCES. */
  long fd = -ENOENT;
  int last = -ENOENT, eacces = 0;
  char *path = NULL;
  *item = -1;
  for (uint32_t i = 0; i < p->n_exec_paths; i++) {
    path = STR(p, p->exec_paths[i]);
    fd = SC(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd >= 0) {
      *item = (int)i;
      break;
    }
    last = (int)fd;
    if (fd == -EACCES)
      eacces = 1;
  }
  if (fd < 0)
    return eacces ? -EACCES : last;
  p->exec_path = path;

  static char hdrs[5][256];
  for (int depth = 0;; depth++) {
    int r = check_file(p, (int)fd);
    if (r < 0)
      return r;
    long n = SC(SYS_pread64, fd, hdrs[depth], sizeof hdrs[depth] - 1, 0);
    if (n < 0)
      return (int)n;
    if (n < 2 || hdrs[depth][0] != '#' || hdrs[depth][1] != '!') {
      r = check_elf_interp(p, (int)fd, (unsigned char *)hdrs[depth], n);
      if (r < 0)
        return r;
      break;
    }
    if (depth == 4)
      return -ELOOP; /* the kernel's BINPRM recursion limit */
    char *interp, *arg;
    r = parse_shebang(hdrs[depth], n, &interp, &arg);
    if (r < 0)
      return r;
    /* Run the interpreter ourselves, exactly as binfmt_script would: argv becomes
     * [interp, arg?, script, argv[1:]...]; this way every file that runs has been checked. */
    av[0] = path;
    if (arg)
      *--av = arg;
    *--av = interp;
    long ifd = SC(SYS_openat, AT_FDCWD, interp, O_RDONLY | O_CLOEXEC, 0);
    SC(SYS_close, fd);
    if (ifd < 0)
      return (int)ifd;
    fd = ifd;
    path = interp;
  }

  p->exec_fd = (int)fd;
  p->exec_argv = av;
  return 0;
}

int rt_step_exec(struct rt_plan *p)
{
  reset_signals();
  /* CVE-2024-21626: nothing beyond stdio and the preserved fds survives the exec. */
  long r = SC(SYS_close_range, 3 + p->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC);
  if (r < 0) {
    for (int i = 3 + (int)p->preserve_fds; i < 1024; i++)
      SC(SYS_fcntl, i, F_SETFD, FD_CLOEXEC);
  }
  /* --preserve-fds: node marks every fd it inherits close-on-exec at start-up, so the preserved
   * ones (and LISTEN_FDS) must be made inheritable again or they vanish at the exec (runc passes
   * them to the container process open). */
  for (int i = 3; i < 3 + (int)p->preserve_fds; i++)
    SC(SYS_fcntl, i, F_SETFD, 0);
  if (p->exec_stub_fd >= 0) {
    /* By path through the sealed stub, as runc's execve: the kernel names the process after the
     * path (a symlinked applet is "sh", a script its own name) and builds a script's argv. What
     * the path resolves to was checked above; if it changed since, /proc/self/exe during that
     * exec is the sealed stub, not the host binary (native/README.md). */
    char **sv = &p->argv_ptrs[15];
    sv[0] = p->exec_path;
    for (uint32_t i = 0; i < p->n_args; i++)
      sv[1 + i] = STR(p, p->args[i]);
    sv[1 + p->n_args] = NULL;
    r = SC(SYS_execveat, p->exec_stub_fd, "", sv, p->envp_ptrs, AT_EMPTY_PATH);
    return (int)r;
  }
  r = SC(SYS_execveat, p->exec_fd, "", p->exec_argv, p->envp_ptrs, AT_EMPTY_PATH);
  return (int)r;
}
