/* bpf(2) wrappers used by the cgroup v2 device controller (src/cgroups/device-filter.ts builds the
 * program). Stateless and synchronous: each returns >= 0 or -errno. Never used after clone. */
#ifndef RT_BPF_H
#define RT_BPF_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* BPF_PROG_LOAD: insns is insn_cnt 8-byte struct bpf_insn records. On failure the verifier log
 * (NUL-terminated) is left in log when log_size > 0. Returns the program fd (O_CLOEXEC). */
int rt_bpf_prog_load(uint32_t prog_type, const void *insns, uint32_t insn_cnt, const char *license,
                     char *log, uint32_t log_size);
/* BPF_PROG_ATTACH of prog_fd to the cgroup directory target_fd. */
int rt_bpf_prog_attach(int target_fd, int prog_fd, uint32_t attach_type, uint32_t flags);
/* BPF_PROG_DETACH of prog_fd from target_fd. */
int rt_bpf_prog_detach(int target_fd, int prog_fd, uint32_t attach_type);
/* BPF_PROG_QUERY: fills ids (capacity *count) and sets *count; returns 0. */
int rt_bpf_prog_query(int target_fd, uint32_t attach_type, uint32_t *ids, uint32_t *count);
/* BPF_PROG_GET_FD_BY_ID: returns an fd (O_CLOEXEC) for the program id. */
int rt_bpf_prog_get_fd_by_id(uint32_t id);

#ifdef __cplusplus
}
#endif

#endif
