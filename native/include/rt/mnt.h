/* Parent-side mount API wrappers for id-mapped mounts (src/runtime/idmap.ts): open_tree(2),
 * mount_setattr(2) with a user namespace fd, and the short-lived process that carries a user
 * namespace for one mapping. Stateless; each returns >= 0 or -errno. Never used after clone. */
#ifndef RT_MNT_H
#define RT_MNT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* open_tree(AT_FDCWD, path, flags): flags are OPEN_TREE_* | AT_* as the kernel takes them. */
int rt_open_tree(const char *path, unsigned flags);
/* mount_setattr(fd, path, flags, {attr_set, attr_clr, propagation 0, userns_fd}). */
int rt_mount_setattr(int fd, const char *path, unsigned flags, uint64_t attr_set, uint64_t attr_clr, int userns_fd);
/* Clones a process into a new user namespace that only waits to be killed (all signals blocked, so
 * SIGKILL alone ends it; PR_SET_PDEATHSIG if we die first). The caller writes its maps, opens
 * /proc/<pid>/ns/user, then kills and reaps it. Returns the pid; *pidfd gets a pidfd. */
int rt_spawn_userns_holder(int *pidfd);

#ifdef __cplusplus
}
#endif

#endif
