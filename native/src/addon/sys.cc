// JS bindings of the parent-side wrappers in native/src/sys: argument conversion and errors only.
#include "glue.h"
#include "rt/sys.h"

#include <cerrno>
#include <cstring>

namespace rt {

static Napi::Value Flock(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 2))
    return env.Undefined();
  int r = rt_flock(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int32Value());
  if (r < 0) {
    ThrowErrno(env, r, "flock");
    return env.Undefined();
  }
  return env.Undefined();
}

static Napi::Value Mkfifo(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 2))
    return env.Undefined();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int r = rt_mkfifo(path.c_str(), (mode_t)info[1].As<Napi::Number>().Uint32Value());
  if (r < 0) {
    ThrowErrno(env, r, "mkfifo", path);
    return env.Undefined();
  }
  return env.Undefined();
}

// llistxattr(path) -> string[] (the names, never following a final symlink).
static Napi::Value Llistxattr(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 1))
    return env.Undefined();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::string buf;
  ssize_t n;
  for (;;) {
    n = rt_llistxattr(path.c_str(), nullptr, 0);
    if (n < 0)
      break;
    buf.resize((size_t)n + 1);
    n = rt_llistxattr(path.c_str(), &buf[0], (size_t)n);
    if (n != -ERANGE)
      break;
  }
  if (n < 0) {
    ThrowErrno(env, (int)n, "llistxattr", path);
    return env.Undefined();
  }
  Napi::Array out = Napi::Array::New(env);
  uint32_t i = 0;
  for (size_t off = 0; off < (size_t)n;) {
    size_t len = strnlen(buf.data() + off, (size_t)n - off);
    if (len > 0)
      out.Set(i++, Napi::String::New(env, buf.data() + off, len));
    off += len + 1;
  }
  return out;
}

// lgetxattr(path, name) -> Buffer, or null when the attribute is absent (ENODATA).
static Napi::Value Lgetxattr(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 2))
    return env.Undefined();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  std::string buf;
  ssize_t n;
  for (;;) {
    n = rt_lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
    if (n < 0)
      break;
    buf.resize((size_t)n + 1);
    n = rt_lgetxattr(path.c_str(), name.c_str(), &buf[0], (size_t)n);
    if (n != -ERANGE)
      break;
  }
  if (n == -ENODATA)
    return env.Null();
  if (n < 0) {
    ThrowErrno(env, (int)n, "lgetxattr", path);
    return env.Undefined();
  }
  return Napi::Buffer<uint8_t>::Copy(env, (const uint8_t *)buf.data(), (size_t)n);
}

void RegisterSys(Napi::Env env, Napi::Object exports)
{
  exports.Set("flock", Napi::Function::New(env, Flock, "flock"));
  exports.Set("mkfifo", Napi::Function::New(env, Mkfifo, "mkfifo"));
  exports.Set("llistxattr", Napi::Function::New(env, Llistxattr, "llistxattr"));
  exports.Set("lgetxattr", Napi::Function::New(env, Lgetxattr, "lgetxattr"));
}

} // namespace rt
