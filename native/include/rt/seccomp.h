/* Parent-side seccomp compiler: builds a filter with libseccomp and exports it as classic BPF
 * (struct sock_filter records) for the child to install. Never linked into code that runs after clone. */
#ifndef RT_SECCOMP_H
#define RT_SECCOMP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One argument comparison: op is enum scmp_compare (SCMP_CMP_NE 1 .. SCMP_CMP_MASKED_EQ 7). */
struct rt_seccomp_cond {
  uint32_t arg;
  uint32_t op;
  uint64_t a;
  uint64_t b;
};

/* One libseccomp rule: a syscall by name, an SCMP_ACT_* action and conditions that all must hold. */
struct rt_seccomp_rule {
  const char *name;
  uint32_t action;
  uint32_t ncond;
  const struct rt_seccomp_cond *conds;
};

struct rt_seccomp_profile {
  uint32_t default_action;
  uint32_t narch;
  const uint32_t *arches; /* SCMP_ARCH_* tokens added next to the native one */
  int log;                /* SCMP_FLTATR_CTL_LOG: checks kernel support, no effect on the BPF */
  int ssb;                /* SCMP_FLTATR_CTL_SSB: same */
  int optimize;           /* SCMP_FLTATR_CTL_OPTIMIZE level, 0 = libseccomp's default */
  uint32_t nrule;
  const struct rt_seccomp_rule *rules;
};

/* Compiles p and exports it as BPF into a malloc'ed buffer (*prog, *len bytes; free() it).
 * skipped[i] is set to 1 for rules whose syscall is unknown to the native arch (runc ignores them).
 * On failure returns -errno and *bad_rule is the failing rule index, or -1 when the profile itself
 * (default action, arch, attribute, export) failed; *what names the libseccomp call. */
int rt_seccomp_compile(const struct rt_seccomp_profile *p, uint8_t *skipped, void **prog, size_t *len,
                       int *bad_rule, const char **what);

/* SCMP_ARCH_* token for a libseccomp arch name ("x86_64", "x32", "aarch64"...), 0 if unknown. */
uint32_t rt_seccomp_arch(const char *name);
/* The native arch token. */
uint32_t rt_seccomp_arch_native(void);
/* Syscall number of name on arch (0 = native), or -1 when the arch has no such syscall. */
int rt_seccomp_syscall(uint32_t arch, const char *name);
/* 1 when the kernel knows SECCOMP_FILTER_FLAG_* flag (the EFAULT probe libseccomp uses), else 0. */
int rt_seccomp_flag_supported(unsigned flag);
/* libseccomp's version and API level (seccomp_api_get: 6 = notify + TSYNC together). */
void rt_seccomp_version(unsigned *major, unsigned *minor, unsigned *micro, unsigned *api);

#ifdef __cplusplus
}
#endif

#endif
