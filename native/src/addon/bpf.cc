// JS bindings of the bpf(2) wrappers in native/src/sys/bpf.c: argument conversion and errors only.
#include "glue.h"
#include "rt/bpf.h"

#include <vector>

namespace rt {

static Napi::Value BpfProgLoad(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 3))
    return env.Undefined();
  uint32_t type = info[0].As<Napi::Number>().Uint32Value();
  Napi::Buffer<uint8_t> insns = info[1].As<Napi::Buffer<uint8_t>>();
  std::string license = info[2].As<Napi::String>().Utf8Value();
  if (insns.Length() % 8 != 0) {
    Napi::TypeError::New(env, "instructions must be 8-byte records").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::vector<char> log(64 * 1024);
  int r = rt_bpf_prog_load(type, insns.Data(), (uint32_t)(insns.Length() / 8), license.c_str(), log.data(),
                           (uint32_t)log.size());
  if (r < 0) {
    // The verifier log travels in `path` so that the SysError message shows why the load failed.
    ThrowErrno(env, r, "bpf_prog_load", std::string(log.data()));
    return env.Undefined();
  }
  return Napi::Number::New(env, r);
}

static Napi::Value BpfProgAttach(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 4))
    return env.Undefined();
  int r = rt_bpf_prog_attach(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int32Value(),
                             info[2].As<Napi::Number>().Uint32Value(), info[3].As<Napi::Number>().Uint32Value());
  if (r < 0)
    ThrowErrno(env, r, "bpf_prog_attach");
  return env.Undefined();
}

static Napi::Value BpfProgDetach(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 3))
    return env.Undefined();
  int r = rt_bpf_prog_detach(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int32Value(),
                             info[2].As<Napi::Number>().Uint32Value());
  if (r < 0)
    ThrowErrno(env, r, "bpf_prog_detach");
  return env.Undefined();
}

static Napi::Value BpfProgQuery(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 2))
    return env.Undefined();
  uint32_t ids[64];
  uint32_t count = 64;
  int r = rt_bpf_prog_query(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Uint32Value(), ids,
                            &count);
  if (r < 0) {
    ThrowErrno(env, r, "bpf_prog_query");
    return env.Undefined();
  }
  Napi::Array out = Napi::Array::New(env, count);
  for (uint32_t i = 0; i < count; i++)
    out.Set(i, Napi::Number::New(env, ids[i]));
  return out;
}

static Napi::Value BpfProgGetFdById(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 1))
    return env.Undefined();
  int r = rt_bpf_prog_get_fd_by_id(info[0].As<Napi::Number>().Uint32Value());
  if (r < 0) {
    ThrowErrno(env, r, "bpf_prog_get_fd_by_id");
    return env.Undefined();
  }
  return Napi::Number::New(env, r);
}

void RegisterBpf(Napi::Env env, Napi::Object exports)
{
  exports.Set("bpfProgLoad", Napi::Function::New(env, BpfProgLoad, "bpfProgLoad"));
  exports.Set("bpfProgAttach", Napi::Function::New(env, BpfProgAttach, "bpfProgAttach"));
  exports.Set("bpfProgDetach", Napi::Function::New(env, BpfProgDetach, "bpfProgDetach"));
  exports.Set("bpfProgQuery", Napi::Function::New(env, BpfProgQuery, "bpfProgQuery"));
  exports.Set("bpfProgGetFdById", Napi::Function::New(env, BpfProgGetFdById, "bpfProgGetFdById"));
}

} // namespace rt
