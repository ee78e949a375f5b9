/* Parent-side wrappers the containerd shim needs (spawn with a pidfd, pipes, a listening unix
 * socket, mount, window size). Each returns >= 0 or -errno; no logic beyond the call. */
#ifndef RT_SHIM_H
#define RT_SHIM_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* posix_spawn of argv[0] (a path) with envp, cwd (NULL = inherit), fds dup'ed onto 0/1/2 (-1 =
 * /dev/null), signals reset to default and unmasked, optionally in a new session. On success
 * *pid and *pidfd are set (the pidfd is opened before any reaper could run, so it names the
 * child). */
int rt_spawn(char *const argv[], char *const envp[], const char *cwd, const int fds[3], int setsid,
             int *pid, int *pidfd);
int rt_pipe2(int fds[2]);
int rt_unix_listen(const char *path, int backlog);
int rt_accept(int fd);
int rt_mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data);
int rt_umount2(const char *target, int flags);
int rt_set_winsize(int fd, unsigned short rows, unsigned short cols);
int rt_set_nonblock(int fd, int on);
int rt_dup_cloexec(int fd);

#ifdef __cplusplus
}
#endif

#endif
