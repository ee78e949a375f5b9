/* Console step of the child: a pty from the container's own devpts, its peer taken with TIOCGPTPEER
 * (no path lookup, CVE-2025-52565), the master handed to the parent for --console-socket, and
 * /dev/console bind-mounted from the peer fd. Raw syscalls only. */
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>

#include "child.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

int rt_step_console(struct rt_plan *p, int *item)
{
  *item = 0;
  long master = SC(SYS_openat, AT_FDCWD, "/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC, 0);
  if (master < 0)
    return (int)master;
  int unlock = 0;
  long r = SC(SYS_ioctl, master, TIOCSPTLCK, &unlock);
  long peer = -1;
  if (r == 0) {
    *item = 1;
    peer = SC(SYS_ioctl, master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    r = peer < 0 ? peer : 0;
  }
  if (r == 0 && p->uid != 0) {
    /* The process's own console (runc fixStdioPermissions): the user owns it, the devpts gid
     * stays. Not mapped (EINVAL), not ours to change (EPERM) or read-only (EROFS): leave it. */
    long c = SC(SYS_fchown, peer, p->uid, -1);
    if (c < 0 && c != -EINVAL && c != -EPERM && c != -EROFS)
      r = c;
  }
  if (r == 0 && p->console_rows && p->console_cols) {
    struct winsize ws = {.ws_row = (unsigned short)p->console_rows, .ws_col = (unsigned short)p->console_cols};
    r = SC(SYS_ioctl, master, TIOCSWINSZ, &ws);
  }
  if (r == 0) {
    *item = 2;
    r = rt_send_fd(p, RT_MSG_PTY, RT_STEP_CONSOLE, (int)master);
    if (r == 0)
      r = rt_recv(p, RT_MSG_PTY_DONE, NULL);
  }
  SC(SYS_close, master);
  if (r < 0) {
    if (peer >= 0)
      SC(SYS_close, peer);
    return (int)r;
  }

  if (p->join_only)
    goto ctty; /* exec into a running container: /dev/console is the init's */
  *item = 3;
  long root = SC(SYS_openat, AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  int dev = root < 0 ? (int)root : rt_open_in_root((int)root, "/dev", O_PATH | O_DIRECTORY, 1);
  if (root >= 0)
    SC(SYS_close, root);
  r = dev;
  if (dev >= 0) {
    r = SC(SYS_mknodat, dev, "console", S_IFREG | 0666, 0);
    if (r == -EEXIST)
      r = 0;
    long target = r == 0 ? SC(SYS_openat, dev, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC, 0) : r;
    if (target >= 0) {
      struct stat st;
      r = SC(SYS_fstat, target, &st);
      if (r == 0 && !S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
        r = -EINVAL; /* a symlink or directory planted at /dev/console */
      if (r == 0)
        r = rt_bind_fds((int)peer, (int)target, 0, 0);
      SC(SYS_close, target);
    } else {
      r = target;
    }
    SC(SYS_close, dev);
  }
ctty:
  if (r == 0) {
    *item = 4;
    r = SC(SYS_ioctl, peer, TIOCSCTTY, 0);
  }
  for (int i = 0; i < 3 && r == 0; i++) {
    *item = 5;
    /* dup3 returns the new fd: 1 after fd 1 would end the loop and leave fd 2 (the runtime's
     * stderr pipe) in the container, and the caller waiting for that pipe's EOF hangs. */
    r = SC(SYS_dup3, peer, i, 0);
    if (r > 0)
      r = 0;
  }
  SC(SYS_close, peer);
  return (int)r;
}
