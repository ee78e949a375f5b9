/* Filesystem steps of the child: rootfs propagation and bind, the spec mounts, /dev, pivot_root,
 * masked and read-only paths. Every target inside the rootfs is resolved once, in-root, to an fd and
 * mounted through that fd (runtime-interfaces.md §7). Raw syscalls only. */
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#include "child.h"

#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif
#ifndef MNT_DETACH
#define MNT_DETACH 2
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

static int sys_mount(const char *src, const char *dst, const char *type, unsigned long flags, const char *data)
{
  return (int)SC(SYS_mount, src, dst, type, flags, data);
}

static int setattr_fd(int fd, uint64_t set, uint64_t clr, int recursive)
{
  struct mount_attr a = {.attr_set = set, .attr_clr = clr};
  return (int)SC(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a, sizeof a);
}

/* Clones the mount at `from` (recursively if asked) and attaches the copy onto `to`; fd-only, so
 * neither end can be swapped by a symlink after it was checked. */
int rt_bind_fds(int from, int to, int recursive, uint64_t set_attr)
{
  long tree = SC(SYS_open_tree, from, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0));
  if (tree < 0)
    return (int)tree;
  int r = 0;
  if (set_attr)
    r = setattr_fd((int)tree, set_attr, 0, recursive);
  if (r == 0)
    r = (int)SC(SYS_move_mount, (int)tree, "", to, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  SC(SYS_close, tree);
  return r;
}

int rt_step_rootfs(struct rt_plan *p, int *rootfd, int *item)
{
  const char *rootfs = STR(p, p->rootfs);
  if (p->shared_mntns) {
    /* The runtime's own mount namespace: its / keeps its propagation and the rootfs needs no
     * self-bind, since we chroot instead of pivot_root. */
    *item = 2;
    long fd = SC(SYS_openat, AT_FDCWD, rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0)
      return (int)fd;
    *rootfd = (int)fd;
    return 0;
  }
  *item = 0;
  /* No mount event may leak back to the host (runc prepareRoot: MS_SLAVE|MS_REC by default). */
  int r = sys_mount(NULL, "/", NULL, (unsigned long)p->root_propagation, NULL);
  if (r < 0)
    return r;
  /* rshared keeps the host's peer groups: the mount holding the rootfs goes private so that the
   * bind below does not propagate to the host and pivot_root accepts it (runc
   * rootfsParentMountPrivate). */
  if (p->rootfs_parent) {
    r = sys_mount(NULL, STR(p, p->rootfs_parent), NULL, MS_PRIVATE, NULL);
    if (r < 0)
      return r;
  }
  *item = 1;
  /* pivot_root needs the new root to be a mount point. */
  r = sys_mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL);
  if (r < 0)
    return r;
  *item = 2;
  /* Opened after the bind so that everything below lands on the bind, not under it. */
  long fd = SC(SYS_openat, AT_FDCWD, rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0)
    return (int)fd;
  *rootfd = (int)fd;
  return 0;
}

/* Flags that a bind remount inside a user namespace may not drop (MNT_LOCK_*): keep what the
 * mount already has; ST_* and MS_* share these bit values. */
static unsigned long locked_flags(const char *target)
{
  struct statfs st;
  if (SC(SYS_statfs, target, &st) < 0)
    return 0;
  return (unsigned long)st.f_flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME);
}

static int mount_one(struct rt_plan *p, int rootfd, const struct rt_mount *m)
{
  const char *dest = STR(p, m->destination);
  const char *src = STR(p, m->source);
  int file_target = 0;
  /* A tree the parent cloned (open_tree) is attached instead of binding the source by path: always
   * for an id-mapped bind; for a fallback tree (user namespace) only when the source is out of the
   * container root's reach (a 0700 host directory: runc's mount sources, opened by the parent). */
  int use_tree = m->tree_fd >= 0 && !m->tree_fallback;
  if (m->kind == RT_MOUNT_BIND) {
    struct stat st;
    long r = use_tree ? SC(SYS_fstat, m->tree_fd, &st) : SC(SYS_newfstatat, AT_FDCWD, src, &st, 0);
    if ((r == -EACCES || r == -EPERM) && m->tree_fd >= 0 && !use_tree) {
      use_tree = 1;
      r = SC(SYS_fstat, m->tree_fd, &st);
    }
    if (r < 0)
      return (int)r;
    file_target = !S_ISDIR(st.st_mode);
    if (!use_tree && m->tree_fd >= 0)
      SC(SYS_close, m->tree_fd);
  }
  int r = rt_mkdir_in_root(rootfd, dest, file_target);
  if (r < 0)
    return r;
  /* tmpcopyup: this fd keeps naming the covered directory once the tmpfs is on top of it. */
  int covered = -1;
  if (m->copy_up) {
    covered = rt_open_in_root(rootfd, dest, O_RDONLY | O_DIRECTORY, 0);
    if (covered < 0)
      return covered;
  }
  int fd = rt_open_in_root(rootfd, dest, O_PATH, m->procfs_like);
  if (fd < 0) {
    if (covered >= 0)
      SC(SYS_close, covered);
    return fd == -ELOOP && m->procfs_like ? -RT_ERR_SYMLINK_DEST : fd;
  }
  char target[32];
  rt_fdpath(target, fd);
  if (m->procfs_like) {
    /* CVE-2019-19921/CVE-2023-27561: proc and sysfs only onto a real directory. */
    struct stat st;
    r = (int)SC(SYS_fstat, fd, &st);
    if (r == 0 && !S_ISDIR(st.st_mode))
      r = -RT_ERR_SYMLINK_DEST;
    if (r < 0)
      goto out;
  }
  if (m->kind == RT_MOUNT_BIND && use_tree) {
    /* For an id-mapped bind the parent also set MOUNT_ATTR_IDMAP on the detached copy (that needs
     * CAP_SYS_ADMIN over the source's superblock, which we lack in a user namespace); attaching it
     * is all that is left. */
    r = (int)SC(SYS_move_mount, m->tree_fd, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
    SC(SYS_close, m->tree_fd);
    if (r < 0)
      goto out;
  } else if (m->kind == RT_MOUNT_BIND) {
    r = sys_mount(src, target, NULL, MS_BIND | (m->flags & MS_REC), NULL);
    if (r < 0)
      goto out;
  } else {
    /* A read-only copy-up tmpfs is filled first and made read-only afterwards. */
    unsigned long f = (unsigned long)m->flags & ~(m->copy_up ? (unsigned long)MS_RDONLY : 0);
    r = sys_mount(src, target, STR(p, m->type), f, m->data ? STR(p, m->data) : NULL);
    if (r < 0)
      goto out;
  }
  /* The fd still names the covered directory: reopen to reach the new mount. */
  SC(SYS_close, fd);
  fd = rt_open_in_root(rootfd, dest, O_PATH, 1);
  if (fd < 0) {
    r = fd;
    goto out;
  }
  rt_fdpath(target, fd);
  if (covered >= 0) {
    int top = rt_open_in_root(rootfd, dest, O_RDONLY | O_DIRECTORY, 1);
    if (top < 0) {
      r = top;
      goto out;
    }
    r = rt_copy_up(covered, top);
    SC(SYS_close, top);
    if (r == 0 && (m->flags & MS_RDONLY))
      r = setattr_fd(fd, MOUNT_ATTR_RDONLY, 0, 0);
    if (r < 0)
      goto out;
  }
  if (m->kind == RT_MOUNT_BIND && (m->flags & ~(uint64_t)(MS_BIND | MS_REC | MS_REMOUNT))) {
    unsigned long f = (unsigned long)m->flags | MS_REMOUNT | MS_BIND;
    f &= ~(unsigned long)MS_REC;
    r = sys_mount(NULL, target, NULL, f, NULL);
    if (r == -EPERM)
      r = sys_mount(NULL, target, NULL, f | locked_flags(target), NULL);
    if (r < 0)
      goto out;
  }
  if (m->propagation) {
    r = sys_mount(NULL, target, NULL, (unsigned long)m->propagation, NULL);
    if (r < 0)
      goto out;
  }
  if (m->attr_set || m->attr_clr)
    r = setattr_fd(fd, m->attr_set, m->attr_clr, 1);
out:
  if (fd >= 0)
    SC(SYS_close, fd);
  if (covered >= 0)
    SC(SYS_close, covered);
  return r;
}

int rt_step_mounts(struct rt_plan *p, int rootfd, int *item)
{
  for (uint32_t i = 0; i < p->n_mounts; i++) {
    *item = (int)i;
    int r = mount_one(p, rootfd, &p->mounts[i]);
    if (r < 0)
      return r;
  }
  return 0;
}

/* Splits "/a/b/name" into the in-root fd of "/a/b" (created if missing) and "name". */
static int open_parent(int rootfd, const char *path, char *name, size_t size)
{
  const char *slash = strrchr(path, '/');
  if (!slash || !slash[1])
    return -EINVAL;
  if (rt_strlcpy(name, slash + 1, size) >= size)
    return -ENAMETOOLONG;
  char dir[RT_PATH_MAX];
  size_t n = (size_t)(slash - path);
  if (n >= sizeof dir)
    return -ENAMETOOLONG;
  memcpy(dir, path, n);
  dir[n] = 0;
  if (n == 0)
    rt_strlcpy(dir, "/", sizeof dir);
  int r = rt_mkdir_in_root(rootfd, dir, 0);
  if (r < 0)
    return r;
  return rt_open_in_root(rootfd, dir, O_PATH | O_DIRECTORY, 0);
}

static int device_one(struct rt_plan *p, int rootfd, const struct rt_device *d)
{
  char name[256];
  const char *path = STR(p, d->path);
  int dir = open_parent(rootfd, path, name, sizeof name);
  if (dir < 0)
    return dir;
  int r;
  if (p->bind_devices) {
    /* mknod is not allowed in a user namespace: bind the host node instead (runc bindMountDeviceNode). */
    r = (int)SC(SYS_mknodat, dir, name, S_IFREG | 0644, 0);
    if (r < 0 && r != -EEXIST)
      goto out;
    int target = (int)SC(SYS_openat, dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
    if (target < 0) {
      r = target;
      goto out;
    }
    int src = (int)SC(SYS_openat, AT_FDCWD, path, O_PATH | O_CLOEXEC, 0);
    if (src < 0) {
      r = src;
    } else {
      r = rt_bind_fds(src, target, 0, 0);
      SC(SYS_close, src);
    }
    SC(SYS_close, target);
    goto out;
  }
  r = (int)SC(SYS_mknodat, dir, name, d->mode, makedev(d->major, d->minor));
  if (r == -EEXIST) {
    r = (int)SC(SYS_unlinkat, dir, name, 0);
    if (r == 0)
      r = (int)SC(SYS_mknodat, dir, name, d->mode, makedev(d->major, d->minor));
  }
  if (r == 0)
    r = (int)SC(SYS_fchownat, dir, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW);
out:
  SC(SYS_close, dir);
  return r;
}

int rt_step_devices(struct rt_plan *p, int rootfd, int *item)
{
  for (uint32_t i = 0; i < p->n_devices; i++) {
    *item = (int)i;
    int r = device_one(p, rootfd, &p->devices[i]);
    if (r < 0)
      return r;
  }
  return 0;
}

int rt_step_symlinks(struct rt_plan *p, int rootfd, int *item)
{
  for (uint32_t i = 0; i < p->n_symlinks; i++) {
    *item = (int)i;
    char name[256];
    int dir = open_parent(rootfd, STR(p, p->symlinks[i].link), name, sizeof name);
    if (dir < 0)
      return dir;
    int r = (int)SC(SYS_symlinkat, STR(p, p->symlinks[i].target), dir, name);
    SC(SYS_close, dir);
    if (r < 0 && r != -EEXIST)
      return r;
  }
  return 0;
}

int rt_step_mkcwd(struct rt_plan *p, int rootfd)
{
  return rt_mkdir_in_root(rootfd, STR(p, p->cwd), 0);
}

/* --no-pivot (runc msMoveRoot): chroot leaves the old root's mounts reachable from the mount
 * namespace, and the kernel lets a container mount a fresh procfs or sysfs while a full, uncovered
 * mount of it exists there (mount_too_revealing). Detach every such host mount outside the rootfs
 * (planned by the parent from its mountinfo), or cover it where detaching is refused. */
static int hide_host_mounts(struct rt_plan *p)
{
  for (uint32_t i = 0; i < p->n_hide; i++) {
    const char *m = STR(p, p->hide_mounts[i]);
    /* Our namespace is a copy: no unmount may propagate back to the host's. */
    int r = sys_mount(NULL, m, NULL, MS_SLAVE | MS_REC, NULL);
    if (r == -ENOENT)
      continue; /* under a mount detached before it */
    if (r < 0)
      return r;
    r = (int)SC(SYS_umount2, m, MNT_DETACH);
    if (r == -EINVAL || r == -EPERM)
      r = sys_mount("tmpfs", m, "tmpfs", 0, NULL);
    if (r < 0)
      return r;
  }
  return 0;
}

int rt_step_pivot(struct rt_plan *p, int rootfd, int *item)
{
  *item = 0;
  int r = (int)SC(SYS_fchdir, rootfd);
  if (r < 0)
    return r;
  if (p->shared_mntns) {
    /* No mount namespace of our own: pivot_root would move the runtime's root (runc: chroot). */
    *item = 2;
    r = (int)SC(SYS_chroot, ".");
  } else if (p->no_pivot) {
    *item = 6;
    r = hide_host_mounts(p);
    if (r < 0)
      return r;
    *item = 1;
    r = sys_mount(".", "/", NULL, MS_MOVE, NULL);
    if (r < 0)
      return r;
    *item = 2;
    r = (int)SC(SYS_chroot, ".");
  } else {
    /* pivot_root(".", ".") stacks the old root on top of the new one; detach it from there
     * (pivot_root(2) NOTES; runc pivotRoot). */
    long oldroot = SC(SYS_openat, AT_FDCWD, "/", O_DIRECTORY | O_PATH | O_CLOEXEC, 0);
    if (oldroot < 0)
      return (int)oldroot;
    *item = 3;
    r = (int)SC(SYS_pivot_root, ".", ".");
    if (r == 0)
      r = (int)SC(SYS_fchdir, (int)oldroot);
    SC(SYS_close, oldroot);
    if (r < 0)
      return r;
    *item = 4;
    r = sys_mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL);
    if (r == 0)
      r = (int)SC(SYS_umount2, ".", MNT_DETACH);
  }
  if (r < 0)
    return r;
  *item = 5;
  SC(SYS_close, rootfd);
  return (int)SC(SYS_chdir, "/");
}

int rt_step_propagation(struct rt_plan *p)
{
  return sys_mount(NULL, "/", NULL, (unsigned long)p->rootfs_propagation, NULL);
}

/* Every procfs path we write must live on procfs (CVE-2019-16884); resolution never leaves it
 * and never follows symlinks (CVE-2025-52881). */
int rt_open_proc(const char *rel, int flags)
{
  long proc = SC(SYS_openat, AT_FDCWD, "/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
  if (proc < 0)
    return (int)proc;
  struct statfs st;
  long r = SC(SYS_fstatfs, proc, &st);
  if (r == 0 && st.f_type != PROC_SUPER_MAGIC)
    r = -RT_ERR_NOT_PROCFS;
  if (r == 0) {
    struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC),
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV};
    r = SC(SYS_openat2, proc, rel, &how, sizeof how);
  }
  SC(SYS_close, proc);
  return (int)r;
}

int rt_step_sysctl(struct rt_plan *p, int *item)
{
  for (uint32_t i = 0; i < p->n_sysctls; i++) {
    *item = (int)i;
    char rel[RT_PATH_MAX];
    int r = rt_join(rel, sizeof rel, "sys/", STR(p, p->sysctls[i].path));
    if (r < 0)
      return r;
    int fd = rt_open_proc(rel, O_WRONLY);
    if (fd < 0)
      return fd;
    const char *v = STR(p, p->sysctls[i].value);
    long w = SC(SYS_write, fd, v, strlen(v));
    SC(SYS_close, fd);
    if (w < 0)
      return (int)w;
  }
  return 0;
}

int rt_step_readonly(struct rt_plan *p, int *item)
{
  long root = SC(SYS_openat, AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  if (root < 0)
    return (int)root;
  int r = 0;
  for (uint32_t i = 0; i < p->n_readonly && r == 0; i++) {
    *item = (int)i;
    int fd = rt_open_in_root((int)root, STR(p, p->readonly[i]), O_PATH, 0);
    if (fd == -ENOENT)
      continue;
    if (fd < 0) {
      r = fd;
      break;
    }
    /* A recursive read-only copy of the subtree, attached over itself. */
    r = rt_bind_fds(fd, fd, 1, MOUNT_ATTR_RDONLY);
    SC(SYS_close, fd);
  }
  SC(SYS_close, root);
  return r;
}

/* Masks files with the container's /dev/null, verified as the 1:3 character device and mounted
 * from that very fd (CVE-2025-31133); directories get an empty read-only tmpfs. */
int rt_step_masked(struct rt_plan *p, int *item)
{
  if (p->n_masked == 0)
    return 0;
  *item = -1;
  long root = SC(SYS_openat, AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  if (root < 0)
    return (int)root;
  int r = 0;
  int null = rt_open_in_root((int)root, "/dev/null", O_PATH, 1);
  struct stat st;
  if (null < 0) {
    r = null;
    goto done;
  }
  r = (int)SC(SYS_fstat, null, &st);
  if (r == 0 && (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)))
    r = -RT_ERR_NOT_DEVNULL;
  for (uint32_t i = 0; i < p->n_masked && r == 0; i++) {
    *item = (int)i;
    int fd = rt_open_in_root((int)root, STR(p, p->masked[i]), O_PATH, 0);
    if (fd == -ENOENT)
      continue;
    if (fd < 0) {
      r = fd;
      break;
    }
    r = (int)SC(SYS_fstat, fd, &st);
    if (r == 0 && S_ISDIR(st.st_mode)) {
      long fs = SC(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
      r = (int)fs;
      if (fs >= 0) {
        r = (int)SC(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0);
        long mnt = r == 0 ? SC(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC) : r;
        if (mnt >= 0) {
          r = (int)SC(SYS_move_mount, mnt, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
          SC(SYS_close, mnt);
        } else {
          r = (int)mnt;
        }
        SC(SYS_close, fs);
      }
    } else if (r == 0) {
      r = rt_bind_fds(null, fd, 0, 0);
    }
    SC(SYS_close, fd);
  }
  SC(SYS_close, null);
done:
  SC(SYS_close, root);
  return r;
}

int rt_step_root_ro(struct rt_plan *p, int *item)
{
  if (p->readonly_dev) {
    /* The /dev mount alone, not /dev/pts or /dev/shm below it (runc finalizeRootfs). */
    *item = 0;
    long root = SC(SYS_openat, AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    if (root < 0)
      return (int)root;
    int dev = rt_open_in_root((int)root, "/dev", O_PATH | O_DIRECTORY, 1);
    SC(SYS_close, root);
    if (dev < 0)
      return dev;
    int r = setattr_fd(dev, MOUNT_ATTR_RDONLY, 0, 0);
    SC(SYS_close, dev);
    if (r < 0)
      return r;
  }
  if (!p->readonly_root)
    return 0;
  *item = 1;
  struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY};
  return (int)SC(SYS_mount_setattr, AT_FDCWD, "/", 0, &a, sizeof a);
}
