// spawnInit: copies the JS InitPlan (src/runtime/plan/types.ts) into struct rt_plan, then clones
// fork-style (clone3 with CLONE_PIDFD and the namespace flags, clone as fallback). The child enters
// rt_child_main and never returns here; the parent returns {pid, pidfd}. Allocation is fine here
// (still the parent); nothing here runs in the child except the clone return path.
#include "glue.h"
#include "rt/msg.h"
#include "rt/plan.h"

#include "rt/exec_stub.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace rt {

namespace {

struct Conv {
  rt_plan *p;
  std::string err;

  rt_str Str(const std::string &s)
  {
    if (s.empty())
      return 0;
    if (s.find('\0') != std::string::npos) {
      Fail("plan string contains NUL: " + s.substr(0, 64));
      return 0;
    }
    if (p->arena_len + s.size() + 1 > RT_ARENA_SIZE) {
      Fail("plan strings exceed the arena");
      return 0;
    }
    rt_str off = p->arena_len;
    memcpy(p->arena + off, s.c_str(), s.size() + 1);
    p->arena_len += (uint32_t)s.size() + 1;
    return off;
  }
  void Fail(const std::string &m)
  {
    if (err.empty())
      err = m;
  }
};

std::string GetStr(const Napi::Object &o, const char *k)
{
  Napi::Value v = o.Get(k);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}

double GetNum(const Napi::Object &o, const char *k)
{
  Napi::Value v = o.Get(k);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : 0;
}

uint64_t GetU64(const Napi::Object &o, const char *k)
{
  Napi::Value v = o.Get(k);
  if (v.IsBigInt()) {
    bool lossless;
    return v.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  return v.IsNumber() ? (uint64_t)v.As<Napi::Number>().Int64Value() : 0;
}

bool GetBool(const Napi::Object &o, const char *k)
{
  Napi::Value v = o.Get(k);
  return v.IsBoolean() && v.As<Napi::Boolean>().Value();
}

Napi::Array GetArr(const Napi::Object &o, const char *k)
{
  Napi::Value v = o.Get(k);
  return v.IsArray() ? v.As<Napi::Array>() : Napi::Array::New(o.Env());
}

// Copies a JS array into a fixed C array, failing when it does not fit.
template <typename F> uint32_t Each(Conv &c, const Napi::Object &o, const char *k, uint32_t max, F f)
{
  Napi::Array a = GetArr(o, k);
  if (a.Length() > max) {
    c.Fail(std::string("plan has too many ") + k + " (max " + std::to_string(max) + ")");
    return 0;
  }
  for (uint32_t i = 0; i < a.Length(); i++)
    f(i, a.Get(i));
  return a.Length();
}

void Convert(Conv &c, const Napi::Object &o)
{
  rt_plan *p = c.p;
  p->magic = RT_PLAN_MAGIC;
  p->size = sizeof *p;
  p->arena_len = 1; // offset 0 is the empty string
  p->clone_flags = GetU64(o, "cloneFlags");
  p->unshare_flags = GetU64(o, "unshareFlags");
  p->n_joins = Each(c, o, "joins", RT_MAX_NS, [&](uint32_t i, Napi::Value v) {
    Napi::Object j = v.As<Napi::Object>();
    p->joins[i].flag = GetU64(j, "flag");
    p->joins[i].path = c.Str(GetStr(j, "path"));
  });
  p->new_userns = GetBool(o, "newUserns");
  p->maps_dumpable = GetBool(o, "mapsDumpable");
  p->fork_after = GetBool(o, "forkAfter");
  p->join_only = GetBool(o, "joinOnly");
  p->wait_cgroup = GetBool(o, "waitCgroup");
  p->time_offsets = c.Str(GetStr(o, "timeOffsets"));
  p->rootfs = c.Str(GetStr(o, "rootfs"));
  p->exec_fifo = c.Str(GetStr(o, "execFifo"));
  p->fifo_hold = GetBool(o, "fifoHold");
  p->root_propagation = GetU64(o, "rootPropagation");
  p->rootfs_parent = c.Str(GetStr(o, "rootfsParent"));
  p->rootfs_propagation = GetU64(o, "rootfsPropagation");
  p->readonly_root = GetBool(o, "readonlyRoot");
  p->readonly_dev = GetBool(o, "readonlyDev");
  p->no_pivot = GetBool(o, "noPivot");
  p->shared_mntns = GetBool(o, "sharedMountNs");
  p->n_mounts = Each(c, o, "mounts", RT_MAX_MOUNTS, [&](uint32_t i, Napi::Value v) {
    Napi::Object m = v.As<Napi::Object>();
    rt_mount &d = p->mounts[i];
    d.kind = GetStr(m, "kind") == "bind" ? RT_MOUNT_BIND : RT_MOUNT_FS;
    d.source = c.Str(GetStr(m, "source"));
    d.destination = c.Str(GetStr(m, "destination"));
    d.type = c.Str(GetStr(m, "type"));
    d.data = c.Str(GetStr(m, "data"));
    d.flags = GetU64(m, "flags");
    d.propagation = GetU64(m, "propagation");
    d.attr_set = GetU64(m, "attrSet");
    d.attr_clr = GetU64(m, "attrClr");
    d.procfs_like = GetBool(m, "procfsLike");
    Napi::Value tree = m.Get("treeFd");
    d.tree_fd = tree.IsNumber() ? tree.As<Napi::Number>().Int32Value() : -1;
    d.copy_up = GetBool(m, "copyUp");
    d.tree_fallback = GetBool(m, "treeFallback");
  });
  // Any number of devices (a privileged container gets every host device): the array lives
  // beside the plan, allocated here and freed with it after the clone.
  Napi::Array devs = GetArr(o, "devices");
  p->devices = devs.Length() > 0 ? (rt_device *)calloc(devs.Length(), sizeof(rt_device)) : nullptr;
  if (devs.Length() > 0 && !p->devices) {
    c.Fail("plan devices: out of memory");
    return;
  }
  p->n_devices = Each(c, o, "devices", devs.Length(), [&](uint32_t i, Napi::Value v) {
    Napi::Object m = v.As<Napi::Object>();
    rt_device &d = p->devices[i];
    d.path = c.Str(GetStr(m, "path"));
    d.mode = (uint32_t)GetNum(m, "mode");
    d.major = (uint32_t)GetNum(m, "major");
    d.minor = (uint32_t)GetNum(m, "minor");
    d.uid = (uint32_t)GetNum(m, "uid");
    d.gid = (uint32_t)GetNum(m, "gid");
  });
  p->bind_devices = GetBool(o, "bindDevices");
  p->n_symlinks = Each(c, o, "symlinks", RT_MAX_SYMLINKS, [&](uint32_t i, Napi::Value v) {
    Napi::Object m = v.As<Napi::Object>();
    p->symlinks[i].target = c.Str(GetStr(m, "target"));
    p->symlinks[i].link = c.Str(GetStr(m, "link"));
  });
  p->n_masked = Each(c, o, "masked", RT_MAX_PATHS,
                     [&](uint32_t i, Napi::Value v) { p->masked[i] = c.Str(v.As<Napi::String>().Utf8Value()); });
  p->n_readonly = Each(c, o, "readonly", RT_MAX_PATHS,
                       [&](uint32_t i, Napi::Value v) { p->readonly[i] = c.Str(v.As<Napi::String>().Utf8Value()); });
  p->n_hide = Each(c, o, "hideMounts", RT_MAX_PATHS,
                   [&](uint32_t i, Napi::Value v) { p->hide_mounts[i] = c.Str(v.As<Napi::String>().Utf8Value()); });
  p->n_sysctls = Each(c, o, "sysctls", RT_MAX_SYSCTLS, [&](uint32_t i, Napi::Value v) {
    Napi::Object m = v.As<Napi::Object>();
    p->sysctls[i].path = c.Str(GetStr(m, "path"));
    p->sysctls[i].value = c.Str(GetStr(m, "value"));
  });
  p->n_rlimits = Each(c, o, "rlimits", RT_MAX_RLIMITS, [&](uint32_t i, Napi::Value v) {
    Napi::Object m = v.As<Napi::Object>();
    p->rlimits[i].resource = (uint32_t)GetNum(m, "resource");
    p->rlimits[i].soft = GetU64(m, "soft");
    p->rlimits[i].hard = GetU64(m, "hard");
  });
  p->hostname = c.Str(GetStr(o, "hostname"));
  p->domainname = c.Str(GetStr(o, "domainname"));
  p->new_keyring = GetBool(o, "newKeyring");
  p->keyring_name = c.Str(GetStr(o, "keyringName"));
  p->uid = (uint32_t)GetNum(o, "uid");
  p->gid = (uint32_t)GetNum(o, "gid");
  p->umask = (uint32_t)GetNum(o, "umask");
  p->n_groups = Each(c, o, "groups", RT_MAX_GROUPS,
                     [&](uint32_t i, Napi::Value v) { p->groups[i] = v.As<Napi::Number>().Uint32Value(); });
  p->set_groups = GetBool(o, "setGroups");
  p->apply_caps = GetBool(o, "applyCaps");
  p->cap_last = (uint32_t)GetNum(o, "capLast");
  p->cap_bounding = GetU64(o, "capBounding");
  p->cap_effective = GetU64(o, "capEffective");
  p->cap_permitted = GetU64(o, "capPermitted");
  p->cap_inheritable = GetU64(o, "capInheritable");
  p->cap_ambient = GetU64(o, "capAmbient");
  p->no_new_privs = GetBool(o, "noNewPrivileges");
  p->apparmor_profile = c.Str(GetStr(o, "apparmorProfile"));
  p->seccomp = GetBool(o, "seccomp");
  if (p->seccomp) {
    Napi::Value prog = o.Get("seccompProgram");
    if (!prog.IsBuffer()) {
      c.err = "plan.seccompProgram must be a Buffer";
      return;
    }
    Napi::Buffer<uint8_t> b = prog.As<Napi::Buffer<uint8_t>>();
    if (b.Length() % 8 != 0 || b.Length() / 8 > RT_MAX_SECCOMP || b.Length() == 0) {
      c.err = "seccomp program too large or malformed";
      return;
    }
    memcpy(p->seccomp_prog, b.Data(), b.Length());
    p->seccomp_len = (uint32_t)(b.Length() / 8);
    p->seccomp_flags = (uint32_t)GetU64(o, "seccompFlags");
    p->seccomp_notify = GetBool(o, "seccompNotify");
  }
  p->terminal = GetBool(o, "terminal");
  p->console_rows = (uint32_t)GetNum(o, "consoleRows");
  p->console_cols = (uint32_t)GetNum(o, "consoleCols");
  p->cwd = c.Str(GetStr(o, "cwd"));
  p->n_args = Each(c, o, "args", RT_MAX_ARGS,
                   [&](uint32_t i, Napi::Value v) { p->args[i] = c.Str(v.As<Napi::String>().Utf8Value()); });
  p->n_env = Each(c, o, "env", RT_MAX_ENV,
                  [&](uint32_t i, Napi::Value v) { p->env[i] = c.Str(v.As<Napi::String>().Utf8Value()); });
  p->n_exec_paths = Each(c, o, "execPaths", RT_MAX_EXEC_PATHS, [&](uint32_t i, Napi::Value v) {
    p->exec_paths[i] = c.Str(v.As<Napi::String>().Utf8Value());
  });
  p->preserve_fds = (uint32_t)GetNum(o, "preserveFds");
  p->host_exe_dev = GetU64(o, "hostExeDev");
  p->host_exe_ino = GetU64(o, "hostExeIno");
  if (p->n_args == 0)
    c.Fail("plan has no args");
}

// The exec stub (native/src/stub/exec-stub.c) in a sealed memfd, made once per process: the child
// execs it, and it execs the container's program by path, so that /proc/<pid>/exe of anything the
// container could reach during that exec is this immutable copy, never the host's node
// (CVE-2019-5736; native/README.md). -1 when memfds are unavailable (the child then runs the
// checked fd itself).
int ExecStubFd()
{
  static int fd = -2;
  if (fd != -2)
    return fd;
  int m = memfd_create("keel-exec-stub", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (m >= 0) {
    size_t off = 0;
    while (off < sizeof rt_exec_stub) {
      ssize_t n = write(m, rt_exec_stub + off, sizeof rt_exec_stub - off);
      if (n <= 0)
        break;
      off += (size_t)n;
    }
    if (off != sizeof rt_exec_stub || fchmod(m, 0555) < 0 ||
        fcntl(m, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
      close(m);
      m = -1;
    }
  }
  fd = m;
  return fd;
}

// Clones fork-style (no new stack): the child continues on a copy of this stack and jumps straight
// into rt_child_main. All signals are blocked across the clone so that no Node handler runs in the
// child before it resets them; the parent restores its mask at once.
long CloneChild(rt_plan *p, int cgroup_fd, int *pidfd)
{
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = p->clone_flags | CLONE_PIDFD | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0);
  args.pidfd = (uint64_t)(uintptr_t)pidfd;
  args.exit_signal = SIGCHLD;
  args.cgroup = cgroup_fd >= 0 ? (uint64_t)cgroup_fd : 0;
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0 && errno == ENOSYS && cgroup_fd < 0)
    pid = syscall(SYS_clone, (unsigned long)(p->clone_flags | CLONE_PIDFD | SIGCHLD), 0, pidfd, 0, 0);
  if (pid == 0)
    rt_child_main(p);
  int saved = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = saved;
  return pid < 0 ? -errno : pid;
}

Napi::Value SpawnInit(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 2) || !info[0].IsObject() || !info[1].IsObject()) {
    Napi::TypeError::New(env, "spawnInit(plan, {syncFd, peerFd, cgroupFd, stdio})").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object opts = info[1].As<Napi::Object>();
  rt_plan *p = (rt_plan *)calloc(1, sizeof(rt_plan));
  if (!p) {
    ThrowErrno(env, -ENOMEM, "spawnInit");
    return env.Undefined();
  }
  Conv c{p, ""};
  Convert(c, info[0].As<Napi::Object>());
  p->sync_fd = (int32_t)GetNum(opts, "syncFd");
  p->exec_stub_fd = ExecStubFd();
  Napi::Value peer = opts.Get("peerFd");
  p->peer_fd = peer.IsNumber() ? peer.As<Napi::Number>().Int32Value() : -1;
  Napi::Value cg = opts.Get("cgroupFd");
  int cgroup_fd = cg.IsNumber() ? cg.As<Napi::Number>().Int32Value() : -1;
  Napi::Array stdio = GetArr(opts, "stdio");
  for (uint32_t i = 0; i < 3; i++)
    p->stdio[i] = i < stdio.Length() ? stdio.Get(i).As<Napi::Number>().Int32Value() : -1;
  if (!c.err.empty()) {
    free(p->devices);
    free(p);
    Napi::RangeError::New(env, c.err).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int pidfd = -1;
  long pid = CloneChild(p, cgroup_fd, &pidfd);
  free(p->devices);
  free(p);
  if (pid < 0) {
    ThrowErrno(env, (int)pid, "clone3");
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, (double)pid));
  out.Set("pidfd", Napi::Number::New(env, pidfd));
  return out;
}

} // namespace

void RegisterSpawn(Napi::Env env, Napi::Object exports)
{
  exports.Set("spawnInit", Napi::Function::New(env, SpawnInit, "spawnInit"));
}

} // namespace rt
