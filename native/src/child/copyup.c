/* tmpcopyup (runc's EXT_COPYUP, crun's copy_recursive_fd_to_fd): copies the directory a tmpfs is
 * about to cover into the new tmpfs. Runs in the child: raw syscalls, stack buffers, bounded depth,
 * every name resolved relative to an already-open directory fd with O_NOFOLLOW (never a path walk). */
#include <fcntl.h>
#include <linux/stat.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "child.h"

/* Deeper trees are refused (RT_ERR_COPYUP_DEPTH) rather than risking the stack: each level holds
 * one getdents buffer. */
#define COPYUP_MAX_DEPTH 32
#define DIRENT_BUF 2048
#define COPY_BUF 8192

struct linux_dirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

static int is_dot(const char *n)
{
  return n[0] == '.' && (n[1] == 0 || (n[1] == '.' && n[2] == 0));
}

/* Contents of one regular file: sendfile(2) works between any two regular files; a plain
 * read/write loop covers filesystems without it. */
static int copy_data(int in, int out)
{
  for (;;) {
    long n = SC(SYS_sendfile, out, in, NULL, 1 << 30);
    if (n == 0)
      return 0;
    if (n > 0)
      continue;
    if (n == -EINTR)
      continue;
    if (n != -EINVAL && n != -ENOSYS)
      return (int)n;
    break;
  }
  char buf[COPY_BUF];
  for (;;) {
    long n = SC(SYS_read, in, buf, sizeof buf);
    if (n == -EINTR)
      continue;
    if (n <= 0)
      return (int)n;
    for (long off = 0; off < n;) {
      long w = SC(SYS_write, out, buf + off, (size_t)(n - off));
      if (w == -EINTR)
        continue;
      if (w < 0)
        return (int)w;
      off += w;
    }
  }
}

static int copy_file(int from, int to, const char *name, const struct stat *st)
{
  int in = (int)SC(SYS_openat, from, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0);
  if (in < 0)
    return in;
  int out = (int)SC(SYS_openat, to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st->st_mode & 07777);
  int r = out;
  if (out >= 0) {
    r = copy_data(in, out);
    SC(SYS_close, out);
  }
  SC(SYS_close, in);
  return r;
}

static int copy_symlink(int from, int to, const char *name)
{
  char target[RT_PATH_MAX];
  long n = SC(SYS_readlinkat, from, name, target, sizeof target - 1);
  if (n < 0)
    return (int)n;
  target[n] = 0;
  return (int)SC(SYS_symlinkat, target, to, name);
}

/* Owner, then mode (chown clears set-id bits), then times, as `cp -a` leaves them. A symlink has no
 * mode of its own. */
static int copy_meta(int dir, const char *name, const struct stat *st)
{
  int r = (int)SC(SYS_fchownat, dir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW);
  if (r == 0 && !S_ISLNK(st->st_mode))
    r = (int)SC(SYS_fchmodat, dir, name, st->st_mode & 07777);
  if (r == 0) {
    struct timespec ts[2] = {st->st_atim, st->st_mtim};
    r = (int)SC(SYS_utimensat, dir, name, ts, AT_SYMLINK_NOFOLLOW);
  }
  return r;
}

static int copy_dir(int from, int to, int depth);

static int copy_entry(int from, int to, const char *name, int depth)
{
  struct stat st;
  int r = (int)SC(SYS_newfstatat, from, name, &st, AT_SYMLINK_NOFOLLOW);
  if (r < 0)
    return r;
  switch (st.st_mode & S_IFMT) {
  case S_IFREG:
    r = copy_file(from, to, name, &st);
    break;
  case S_IFLNK:
    r = copy_symlink(from, to, name);
    break;
  case S_IFDIR: {
    r = (int)SC(SYS_mkdirat, to, name, 0700);
    if (r < 0)
      break;
    int sub_from = (int)SC(SYS_openat, from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
    if (sub_from < 0)
      return sub_from;
    int sub_to = (int)SC(SYS_openat, to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
    r = sub_to;
    if (sub_to >= 0) {
      r = copy_dir(sub_from, sub_to, depth + 1);
      SC(SYS_close, sub_to);
    }
    SC(SYS_close, sub_from);
    break;
  }
  default: /* devices, fifos, sockets: the node itself (mknod may be refused in a user namespace) */
    r = (int)SC(SYS_mknodat, to, name, st.st_mode, st.st_rdev);
    break;
  }
  if (r < 0)
    return r;
  /* Directories last: filling them changed their times. */
  return copy_meta(to, name, &st);
}

static int copy_dir(int from, int to, int depth)
{
  if (depth > COPYUP_MAX_DEPTH)
    return -RT_ERR_COPYUP_DEPTH;
  char buf[DIRENT_BUF] __attribute__((aligned(8)));
  for (;;) {
    long n = SC(SYS_getdents64, from, buf, sizeof buf);
    if (n < 0)
      return (int)n;
    if (n == 0)
      return 0;
    for (long off = 0; off < n;) {
      struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
      off += d->d_reclen;
      if (is_dot(d->d_name))
        continue;
      int r = copy_entry(from, to, d->d_name, depth);
      if (r < 0)
        return r;
    }
  }
}

int rt_copy_up(int from, int to)
{
  int r = copy_dir(from, to, 0);
  if (r < 0)
    return r;
  /* The new root takes the covered directory's owner and mode (runc chmods it the same way). */
  struct stat st;
  r = (int)SC(SYS_fstat, from, &st);
  if (r == 0)
    r = (int)SC(SYS_fchown, to, st.st_uid, st.st_gid);
  if (r == 0)
    r = (int)SC(SYS_fchmod, to, st.st_mode & 07777);
  if (r == 0) {
    struct timespec ts[2] = {st.st_atim, st.st_mtim};
    r = (int)SC(SYS_utimensat, to, NULL, ts, 0);
  }
  return r;
}
