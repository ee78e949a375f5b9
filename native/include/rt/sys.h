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

#ifdef __cplusplus
}
#endif

#endif
