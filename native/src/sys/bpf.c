/* bpf(2) wrappers for the cgroup v2 device filter: load, attach, detach, query, get-fd-by-id.
 * Pure syscall plumbing; the program itself is built in TypeScript (src/cgroups/device-filter.ts). */
#include "rt/bpf.h"

#include <errno.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int sys_bpf(int cmd, union bpf_attr *attr)
{
  long r = syscall(SYS_bpf, cmd, attr, sizeof(*attr));
  return r < 0 ? -errno : (int)r;
}

int rt_bpf_prog_load(uint32_t prog_type, const void *insns, uint32_t insn_cnt, const char *license,
                     char *log, uint32_t log_size)
{
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.prog_type = prog_type;
  attr.insns = (uint64_t)(uintptr_t)insns;
  attr.insn_cnt = insn_cnt;
  attr.license = (uint64_t)(uintptr_t)license;
  attr.prog_flags = 0;
  int r = sys_bpf(BPF_PROG_LOAD, &attr);
  if (r == -EACCES || r == -EINVAL) {
    /* Load once more with the verifier log on, only to explain the failure (libbpf does the same). */
    if (log && log_size > 0) {
      log[0] = '\0';
      attr.log_level = 1;
      attr.log_buf = (uint64_t)(uintptr_t)log;
      attr.log_size = log_size;
      int r2 = sys_bpf(BPF_PROG_LOAD, &attr);
      if (r2 >= 0) {
        close(r2);
        log[0] = '\0';
      }
    }
    return r;
  }
  if (r >= 0 && log && log_size > 0)
    log[0] = '\0';
  return r;
}

int rt_bpf_prog_attach(int target_fd, int prog_fd, uint32_t attach_type, uint32_t flags)
{
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.target_fd = (uint32_t)target_fd;
  attr.attach_bpf_fd = (uint32_t)prog_fd;
  attr.attach_type = attach_type;
  attr.attach_flags = flags;
  return sys_bpf(BPF_PROG_ATTACH, &attr);
}

int rt_bpf_prog_detach(int target_fd, int prog_fd, uint32_t attach_type)
{
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.target_fd = (uint32_t)target_fd;
  attr.attach_bpf_fd = (uint32_t)prog_fd;
  attr.attach_type = attach_type;
  return sys_bpf(BPF_PROG_DETACH, &attr);
}

int rt_bpf_prog_query(int target_fd, uint32_t attach_type, uint32_t *ids, uint32_t *count)
{
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.query.target_fd = (uint32_t)target_fd;
  attr.query.attach_type = attach_type;
  attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
  attr.query.prog_cnt = *count;
  int r = sys_bpf(BPF_PROG_QUERY, &attr);
  if (r < 0)
    return r;
  *count = attr.query.prog_cnt;
  return 0;
}

int rt_bpf_prog_get_fd_by_id(uint32_t id)
{
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.prog_id = id;
  attr.open_flags = 0;
  return sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
}
