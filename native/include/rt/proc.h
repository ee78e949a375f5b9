/* Parent-side process and socket wrappers for launch.ts and kill: pidfds, waitid, poll, the sync
 * socketpair and SCM_RIGHTS. Stateless; each returns >= 0 or -errno. Never used after clone. */
#ifndef RT_PROC_H
#define RT_PROC_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

int rt_socketpair_seqpacket(int fds[2]);
int rt_pidfd_open(int pid);
int rt_pidfd_send_signal(int pidfd, int sig);
/* waitid(idtype, id, WEXITED | options); *pid = 0 when WNOHANG found nothing. */
int rt_waitid(int idtype, int id, int options, int *pid, int *code, int *status);
/* poll() one fd; returns revents, 0 on timeout. */
int rt_poll1(int fd, int events, int timeout_ms);
/* recvmsg() one record with an optional SCM_RIGHTS fd (CLOEXEC); -ETIMEDOUT after timeout_ms. */
ssize_t rt_recv_msg(int fd, void *buf, size_t len, int timeout_ms, int *fd_out);
int rt_send_msg(int fd, const void *buf, size_t len, int send_fd);
int rt_set_child_subreaper(int on);
/* close_range(first, ~0U, CLOSE_RANGE_CLOEXEC): no fd from `first` on survives our next execve. */
int rt_cloexec_from(int first);
/* Connects to an AF_UNIX stream socket and sends payload with fd attached (runc's console socket). */
int rt_unix_send_fd(const char *path, const void *payload, size_t len, int fd);

#ifdef __cplusplus
}
#endif

#endif
