// JS bindings of the process and socket wrappers in native/src/sys/proc.c: argument conversion and
// errors only.
#include "glue.h"
#include "rt/proc.h"

namespace rt {

namespace {

int32_t I(const Napi::CallbackInfo &info, size_t i)
{
  return info[i].As<Napi::Number>().Int32Value();
}

Napi::Value Socketpair(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  int fds[2];
  int r = rt_socketpair_seqpacket(fds);
  if (r < 0) {
    ThrowErrno(env, r, "socketpair");
    return env.Undefined();
  }
  Napi::Array a = Napi::Array::New(env, 2);
  a.Set(0u, Napi::Number::New(env, fds[0]));
  a.Set(1u, Napi::Number::New(env, fds[1]));
  return a;
}

Napi::Value PidfdOpen(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 1))
    return env.Undefined();
  int r = rt_pidfd_open(I(info, 0));
  if (r < 0) {
    ThrowErrno(env, r, "pidfd_open");
    return env.Undefined();
  }
  return Napi::Number::New(env, r);
}

Napi::Value PidfdSendSignal(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 2))
    return env.Undefined();
  int r = rt_pidfd_send_signal(I(info, 0), I(info, 1));
  if (r < 0)
    ThrowErrno(env, r, "pidfd_send_signal");
  return env.Undefined();
}

Napi::Value Waitid(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 3))
    return env.Undefined();
  int pid = 0, code = 0, status = 0;
  int r = rt_waitid(I(info, 0), I(info, 1), I(info, 2), &pid, &code, &status);
  if (r < 0) {
    ThrowErrno(env, r, "waitid");
    return env.Undefined();
  }
  if (pid == 0)
    return env.Null();
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", Napi::Number::New(env, pid));
  o.Set("code", Napi::Number::New(env, code));
  o.Set("status", Napi::Number::New(env, status));
  return o;
}

Napi::Value Poll(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 3))
    return env.Undefined();
  int r = rt_poll1(I(info, 0), I(info, 1), I(info, 2));
  if (r < 0) {
    ThrowErrno(env, r, "poll");
    return env.Undefined();
  }
  return Napi::Number::New(env, r);
}

Napi::Value RecvMsg(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 3))
    return env.Undefined();
  uint32_t size = info[1].As<Napi::Number>().Uint32Value();
  Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::New(env, size ? size : 1);
  int fd = -1;
  ssize_t n = rt_recv_msg(I(info, 0), buf.Data(), size, I(info, 2), &fd);
  if (n < 0) {
    ThrowErrno(env, (int)n, "recvmsg");
    return env.Undefined();
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("data", Napi::Buffer<uint8_t>::Copy(env, buf.Data(), (size_t)n));
  o.Set("fd", Napi::Number::New(env, fd));
  return o;
}

Napi::Value SendMsg(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 3))
    return env.Undefined();
  Napi::Buffer<uint8_t> buf = info[1].As<Napi::Buffer<uint8_t>>();
  int r = rt_send_msg(I(info, 0), buf.Data(), buf.Length(), I(info, 2));
  if (r < 0)
    ThrowErrno(env, r, "sendmsg");
  return env.Undefined();
}

Napi::Value SetChildSubreaper(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 1))
    return env.Undefined();
  int r = rt_set_child_subreaper(info[0].ToBoolean().Value() ? 1 : 0);
  if (r < 0)
    ThrowErrno(env, r, "prctl");
  return env.Undefined();
}

Napi::Value CloexecFrom(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 1))
    return env.Undefined();
  int r = rt_cloexec_from(info[0].As<Napi::Number>().Int32Value());
  if (r < 0)
    ThrowErrno(env, r, "close_range");
  return env.Undefined();
}

Napi::Value UnixSendFd(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 3))
    return env.Undefined();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::string payload = info[1].As<Napi::String>().Utf8Value();
  int r = rt_unix_send_fd(path.c_str(), payload.data(), payload.size(), I(info, 2));
  if (r < 0)
    ThrowErrno(env, r, "sendmsg", path);
  return env.Undefined();
}

} // namespace

void RegisterProc(Napi::Env env, Napi::Object exports)
{
  exports.Set("socketpair", Napi::Function::New(env, Socketpair, "socketpair"));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen, "pidfdOpen"));
  exports.Set("pidfdSendSignal", Napi::Function::New(env, PidfdSendSignal, "pidfdSendSignal"));
  exports.Set("waitid", Napi::Function::New(env, Waitid, "waitid"));
  exports.Set("poll", Napi::Function::New(env, Poll, "poll"));
  exports.Set("recvMsg", Napi::Function::New(env, RecvMsg, "recvMsg"));
  exports.Set("sendMsg", Napi::Function::New(env, SendMsg, "sendMsg"));
  exports.Set("setChildSubreaper", Napi::Function::New(env, SetChildSubreaper, "setChildSubreaper"));
  exports.Set("cloexecFrom", Napi::Function::New(env, CloexecFrom, "cloexecFrom"));
  exports.Set("unixSendFd", Napi::Function::New(env, UnixSendFd, "unixSendFd"));
}

} // namespace rt
