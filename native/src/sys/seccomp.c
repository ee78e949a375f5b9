/* Parent-side seccomp compiler over libseccomp: profile in, classic BPF bytes out (exported through a
 * memfd). Allocates freely, so it must never run after clone; the child only installs the bytes. */
#include "rt/seccomp.h"

#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Reads the whole of fd (from offset 0) into a malloc'ed buffer. */
static int slurp(int fd, void **out, size_t *len)
{
  struct stat st;
  if (fstat(fd, &st) < 0)
    return -errno;
  size_t size = (size_t)st.st_size;
  uint8_t *buf = malloc(size ? size : 1);
  if (!buf)
    return -ENOMEM;
  size_t got = 0;
  while (got < size) {
    ssize_t n = pread(fd, buf + got, size - got, (off_t)got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int e = n < 0 ? -errno : -EIO;
      free(buf);
      return e;
    }
    got += (size_t)n;
  }
  *out = buf;
  *len = size;
  return 0;
}

/* seccomp_export_bpf() writes to an fd; a memfd keeps the round trip in memory without a reader
 * thread (runc uses a pipe plus a goroutine, crun a memfd or temp file). */
static int export_bpf(scmp_filter_ctx ctx, void **prog, size_t *len)
{
  int fd = memfd_create("keel-seccomp", MFD_CLOEXEC);
  if (fd < 0)
    return -errno;
  int r = seccomp_export_bpf(ctx, fd);
  if (r == 0)
    r = slurp(fd, prog, len);
  close(fd);
  return r;
}

int rt_seccomp_compile(const struct rt_seccomp_profile *p, uint8_t *skipped, void **prog, size_t *len,
                       int *bad_rule, const char **what)
{
  *bad_rule = -1;
  *what = "seccomp_init";
  scmp_filter_ctx ctx = seccomp_init(p->default_action);
  if (!ctx)
    return -EINVAL;
  int r = 0;
  for (uint32_t i = 0; i < p->narch && r == 0; i++) {
    *what = "seccomp_arch_add";
    r = seccomp_arch_add(ctx, p->arches[i]);
    /* The native arch is already in a fresh filter; listing it again is not an error (as runc). */
    if (r == -EEXIST)
      r = 0;
  }
  /* The BPF carries no flags: LOG and SSB are set so that libseccomp checks the kernel supports
   * them; the caller passes the matching SECCOMP_FILTER_FLAG_* to seccomp(2) itself. */
  if (r == 0 && p->log) {
    *what = "seccomp_attr_set(SCMP_FLTATR_CTL_LOG)";
    r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
  }
  if (r == 0 && p->ssb) {
    *what = "seccomp_attr_set(SCMP_FLTATR_CTL_SSB)";
    r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1);
  }
  if (r == 0 && p->optimize > 0) {
    /* Not fatal: older libseccomp lacks the binary tree (runc only logs this). */
    (void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, (uint32_t)p->optimize);
  }
  for (uint32_t i = 0; i < p->nrule && r == 0; i++) {
    const struct rt_seccomp_rule *rule = &p->rules[i];
    int nr = seccomp_syscall_resolve_name(rule->name);
    if (nr == __NR_SCMP_ERROR) {
      skipped[i] = 1;
      continue;
    }
    struct scmp_arg_cmp cmp[6];
    if (rule->ncond > 6) {
      *bad_rule = (int)i;
      *what = "seccomp_rule_add";
      r = -E2BIG;
      break;
    }
    for (uint32_t c = 0; c < rule->ncond; c++) {
      cmp[c].arg = rule->conds[c].arg;
      cmp[c].op = (enum scmp_compare)rule->conds[c].op;
      cmp[c].datum_a = rule->conds[c].a;
      cmp[c].datum_b = rule->conds[c].b;
    }
    r = seccomp_rule_add_array(ctx, rule->action, nr, rule->ncond, cmp);
    if (r != 0) {
      *bad_rule = (int)i;
      *what = "seccomp_rule_add";
    }
  }
  if (r == 0) {
    *what = "seccomp_export_bpf";
    r = export_bpf(ctx, prog, len);
  }
  seccomp_release(ctx);
  return r < 0 ? r : (r > 0 ? -r : 0);
}

uint32_t rt_seccomp_arch(const char *name)
{
  return seccomp_arch_resolve_name(name);
}

uint32_t rt_seccomp_arch_native(void)
{
  return seccomp_arch_native();
}

int rt_seccomp_syscall(uint32_t arch, const char *name)
{
  return arch ? seccomp_syscall_resolve_name_arch(arch, name) : seccomp_syscall_resolve_name(name);
}

int rt_seccomp_flag_supported(unsigned flag)
{
  /* A NULL program faults only after the flags were accepted: EFAULT = known, EINVAL = unknown. */
  return syscall(SYS_seccomp, 1 /* SECCOMP_SET_MODE_FILTER */, flag, NULL) < 0 && errno == EFAULT;
}

void rt_seccomp_version(unsigned *major, unsigned *minor, unsigned *micro, unsigned *api)
{
  const struct scmp_version *v = seccomp_version();
  *major = v->major;
  *minor = v->minor;
  *micro = v->micro;
  *api = seccomp_api_get();
}
