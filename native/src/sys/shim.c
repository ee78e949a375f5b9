/* Wrappers for the containerd shim daemon: a posix_spawn that also returns a pidfd (the shim's
 * reaper owns every wait, so Node's child_process is never used), pipes, a listening unix socket,
 * mount/umount and TIOCSWINSZ. Each returns >= 0 or -errno; no logic beyond the call. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "rt/shim.h"

int rt_spawn(char *const argv[], char *const envp[], const char *cwd, const int fds[3], int setsid,
             int *pid, int *pidfd)
{
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  sigset_t all, none;
  int r;

  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  for (int i = 0; i < 3; i++) {
    if (fds[i] >= 0)
      posix_spawn_file_actions_adddup2(&fa, fds[i], i);
    else
      posix_spawn_file_actions_addopen(&fa, i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0);
  }
  if (cwd)
    posix_spawn_file_actions_addchdir_np(&fa, cwd);
  /* Node ignores SIGPIPE and blocks nothing we want kept; the child must start clean
   * (ignored dispositions survive execve, see signal(7)). */
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
  if (setsid)
    flags |= POSIX_SPAWN_SETSID;
  posix_spawnattr_setflags(&attr, flags);
  r = posix_spawn(pid, argv[0], &fa, &attr, argv, envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (r != 0)
    return -r;
  long p = syscall(SYS_pidfd_open, *pid, 0);
  *pidfd = p < 0 ? -1 : (int)p;
  return 0;
}

int rt_pipe2(int fds[2])
{
  return pipe2(fds, O_CLOEXEC) < 0 ? -errno : 0;
}

int rt_unix_listen(const char *path, int backlog)
{
  struct sockaddr_un sa;
  if (strlen(path) >= sizeof sa.sun_path)
    return -ENAMETOOLONG;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return -errno;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  strcpy(sa.sun_path, path);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, backlog) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  return fd;
}

int rt_accept(int fd)
{
  int r;
  do
    r = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
  while (r < 0 && errno == EINTR);
  return r < 0 ? -errno : r;
}

int rt_mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)
{
  return mount(source, target, fstype, flags, data) < 0 ? -errno : 0;
}

int rt_umount2(const char *target, int flags)
{
  return umount2(target, flags) < 0 ? -errno : 0;
}

int rt_set_winsize(int fd, unsigned short rows, unsigned short cols)
{
  struct winsize ws;
  memset(&ws, 0, sizeof ws);
  ws.ws_row = rows;
  ws.ws_col = cols;
  return ioctl(fd, TIOCSWINSZ, &ws) < 0 ? -errno : 0;
}

int rt_set_nonblock(int fd, int on)
{
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0)
    return -errno;
  fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
  return fcntl(fd, F_SETFL, fl) < 0 ? -errno : 0;
}

int rt_dup_cloexec(int fd)
{
  int r = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  return r < 0 ? -errno : r;
}
