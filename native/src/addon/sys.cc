// JS bindings of the parent-side wrappers in native/src/sys: argument conversion and errors only.
#include "glue.h"
#include "rt/sys.h"

#include <cerrno>
#include <cstring>

#include <v8.h>

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

// mallocArenaMax(n): glibc gives each thread that allocates its own arena (up to 8 per core), and
// V8's and libuv's worker threads each keep one with free pages in it for as long as we run.
static Napi::Value MallocArenaMax(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 1))
    return env.Undefined();
  int r = rt_malloc_arena_max(info[0].As<Napi::Number>().Int32Value());
  if (r < 0)
    ThrowErrno(env, r, "mallopt");
  return env.Undefined();
}

// releaseMemory(): V8's low-memory notification (full collections that compact and shrink the heap)
// and then malloc_trim(0), for a long-lived process that has gone idle. N-API has no call for the
// first, so this is the one place the addon reaches V8 itself (v8.h, the node it is built for).
static Napi::Value ReleaseMemory(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  v8::Isolate *isolate = v8::Isolate::GetCurrent();
  if (isolate != nullptr)
    isolate->LowMemoryNotification();
  return Napi::Boolean::New(env, rt_malloc_trim() == 1);
}

void RegisterSys(Napi::Env env, Napi::Object exports)
{
  exports.Set("flock", Napi::Function::New(env, Flock, "flock"));
  exports.Set("mkfifo", Napi::Function::New(env, Mkfifo, "mkfifo"));
  exports.Set("llistxattr", Napi::Function::New(env, Llistxattr, "llistxattr"));
  exports.Set("lgetxattr", Napi::Function::New(env, Lgetxattr, "lgetxattr"));
  exports.Set("mallocArenaMax", Napi::Function::New(env, MallocArenaMax, "mallocArenaMax"));
  exports.Set("releaseMemory", Napi::Function::New(env, ReleaseMemory, "releaseMemory"));
}

} // namespace rt
