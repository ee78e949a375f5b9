// JS bindings of the parent-side wrappers in native/src/sys: argument conversion and errors only.
#include "glue.h"
#include "rt/sys.h"

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

void RegisterSys(Napi::Env env, Napi::Object exports)
{
  exports.Set("flock", Napi::Function::New(env, Flock, "flock"));
  exports.Set("mkfifo", Napi::Function::New(env, Mkfifo, "mkfifo"));
}

} // namespace rt
