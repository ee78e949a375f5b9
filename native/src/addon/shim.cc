// JS bindings of native/src/sys/shim.c (the containerd shim's spawn, pipes, listener, mounts and
// window size): argument conversion and errors only.
#include <string>
#include <vector>

#include "glue.h"
#include "rt/shim.h"

namespace rt {

namespace {

int32_t I(const Napi::CallbackInfo &info, size_t i)
{
  return info[i].As<Napi::Number>().Int32Value();
}

std::vector<std::string> Strings(Napi::Value v)
{
  std::vector<std::string> out;
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++)
    out.push_back(a.Get(i).As<Napi::String>().Utf8Value());
  return out;
}

std::vector<char *> Ptrs(std::vector<std::string> &s)
{
  std::vector<char *> p;
  for (auto &x : s)
    p.push_back(const_cast<char *>(x.c_str()));
  p.push_back(nullptr);
  return p;
}

// spawn(argv, env, cwd|null, [fd0, fd1, fd2], setsid) -> {pid, pidfd}
Napi::Value Spawn(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 5))
    return env.Undefined();
  std::vector<std::string> argv = Strings(info[0]);
  std::vector<std::string> envs = Strings(info[1]);
  if (argv.empty()) {
    Napi::TypeError::New(env, "empty argv").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string cwd = info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : "";
  Napi::Array fa = info[3].As<Napi::Array>();
  int fds[3];
  for (uint32_t i = 0; i < 3; i++)
    fds[i] = fa.Get(i).As<Napi::Number>().Int32Value();
  std::vector<char *> av = Ptrs(argv), ev = Ptrs(envs);
  int pid = 0, pidfd = -1;
  int r = rt_spawn(av.data(), ev.data(), cwd.empty() ? nullptr : cwd.c_str(), fds,
                   info[4].As<Napi::Boolean>().Value(), &pid, &pidfd);
  if (r < 0) {
    ThrowErrno(env, r, "posix_spawn", argv[0]);
    return env.Undefined();
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", Napi::Number::New(env, pid));
  o.Set("pidfd", Napi::Number::New(env, pidfd));
  return o;
}

Napi::Value Pipe(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  int fds[2];
  int r = rt_pipe2(fds);
  if (r < 0) {
    ThrowErrno(env, r, "pipe2");
    return env.Undefined();
  }
  Napi::Array a = Napi::Array::New(env, 2);
  a.Set(0u, Napi::Number::New(env, fds[0]));
  a.Set(1u, Napi::Number::New(env, fds[1]));
  return a;
}

Napi::Value UnixListen(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 2))
    return env.Undefined();
  std::string p = info[0].As<Napi::String>().Utf8Value();
  int r = rt_unix_listen(p.c_str(), I(info, 1));
  if (r < 0) {
    ThrowErrno(env, r, "bind", p);
    return env.Undefined();
  }
  return Napi::Number::New(env, r);
}

// accept(fd) -> fd, or -1 when nothing is pending (EAGAIN)
Napi::Value Accept(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 1))
    return env.Undefined();
  int r = rt_accept(I(info, 0));
  if (r == -EAGAIN)
    return Napi::Number::New(env, -1);
  if (r < 0) {
    ThrowErrno(env, r, "accept4");
    return env.Undefined();
  }
  return Napi::Number::New(env, r);
}

// mount(source, target, fstype, flags, data)
Napi::Value Mount(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 5))
    return env.Undefined();
  std::string src = info[0].As<Napi::String>().Utf8Value();
  std::string tgt = info[1].As<Napi::String>().Utf8Value();
  std::string type = info[2].As<Napi::String>().Utf8Value();
  std::string data = info[4].As<Napi::String>().Utf8Value();
  unsigned long flags = (unsigned long)info[3].As<Napi::Number>().Int64Value();
  int r = rt_mount(src.c_str(), tgt.c_str(), type.c_str(), flags, data.empty() ? nullptr : data.c_str());
  if (r < 0)
    ThrowErrno(env, r, "mount", tgt);
  return env.Undefined();
}

Napi::Value Umount2(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 2))
    return env.Undefined();
  std::string tgt = info[0].As<Napi::String>().Utf8Value();
  int r = rt_umount2(tgt.c_str(), I(info, 1));
  if (r < 0)
    ThrowErrno(env, r, "umount2", tgt);
  return env.Undefined();
}

Napi::Value SetWinsize(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 3))
    return env.Undefined();
  int r = rt_set_winsize(I(info, 0), (unsigned short)I(info, 1), (unsigned short)I(info, 2));
  if (r < 0)
    ThrowErrno(env, r, "ioctl(TIOCSWINSZ)");
  return env.Undefined();
}

Napi::Value SetNonblock(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 2))
    return env.Undefined();
  int r = rt_set_nonblock(I(info, 0), info[1].As<Napi::Boolean>().Value());
  if (r < 0)
    ThrowErrno(env, r, "fcntl");
  return env.Undefined();
}

Napi::Value Dup(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 1))
    return env.Undefined();
  int r = rt_dup_cloexec(I(info, 0));
  if (r < 0) {
    ThrowErrno(env, r, "fcntl(F_DUPFD_CLOEXEC)");
    return env.Undefined();
  }
  return Napi::Number::New(env, r);
}

} // namespace

void RegisterShim(Napi::Env env, Napi::Object exports)
{
  exports.Set("spawn", Napi::Function::New(env, Spawn));
  exports.Set("pipe", Napi::Function::New(env, Pipe));
  exports.Set("unixListen", Napi::Function::New(env, UnixListen));
  exports.Set("accept", Napi::Function::New(env, Accept));
  exports.Set("mount", Napi::Function::New(env, Mount));
  exports.Set("umount2", Napi::Function::New(env, Umount2));
  exports.Set("setWinsize", Napi::Function::New(env, SetWinsize));
  exports.Set("setNonblock", Napi::Function::New(env, SetNonblock));
  exports.Set("dup", Napi::Function::New(env, Dup));
}

} // namespace rt
