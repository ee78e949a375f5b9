/* Parent-side syscall wrappers: stateless, synchronous, each returns >= 0 or -errno.
 * They hold no logic; TypeScript decides what to call and when. Never used after clone. */
#ifndef RT_SYS_H
#define RT_SYS_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

int rt_flock(int fd, int op);
int rt_mkfifo(const char *path, mode_t mode);
/* llistxattr(2)/lgetxattr(2): size 0 asks for the needed size. */
ssize_t rt_llistxattr(const char *path, char *buf, size_t size);
ssize_t rt_lgetxattr(const char *path, const char *name, void *buf, size_t size);
/* mallopt(M_ARENA_MAX, n): threads that have no arena yet share the existing ones. */
int rt_malloc_arena_max(int n);
/* malloc_trim(0): gives the free pages of every arena back to the kernel; 1 if any was released. */
int rt_malloc_trim(void);

#ifdef __cplusplus
}
#endif

#endif
