// JS bindings of native/src/sys/seccomp.c (the parent-side libseccomp compiler): argument conversion only.
// Compile failures come back as {errno, rule, what} so that src/runtime/seccomp.ts can name the profile entry.
#include "glue.h"
#include "rt/seccomp.h"

#include <cstdlib>
#include <vector>

namespace rt {

static uint64_t ToU64(const Napi::Value &v)
{
  if (v.IsBigInt()) {
    bool lossless;
    return v.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  return (uint64_t)v.As<Napi::Number>().Int64Value();
}

// seccompCompile({defaultAction, arches, log, ssb, optimize, rules: [{name, action, conds: [{arg, op, a, b}]}]})
static Napi::Value SeccompCompile(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 1))
    return env.Undefined();
  Napi::Object in = info[0].As<Napi::Object>();
  Napi::Array arches = in.Get("arches").As<Napi::Array>();
  Napi::Array rules = in.Get("rules").As<Napi::Array>();

  std::vector<uint32_t> arch(arches.Length());
  for (uint32_t i = 0; i < arches.Length(); i++)
    arch[i] = arches.Get(i).As<Napi::Number>().Uint32Value();

  // Names and conditions are copied out first so that the pointers in rt_seccomp_rule stay valid.
  std::vector<std::string> names(rules.Length());
  std::vector<std::vector<rt_seccomp_cond>> conds(rules.Length());
  std::vector<rt_seccomp_rule> rule(rules.Length());
  for (uint32_t i = 0; i < rules.Length(); i++) {
    Napi::Object r = rules.Get(i).As<Napi::Object>();
    names[i] = r.Get("name").As<Napi::String>().Utf8Value();
    Napi::Array cs = r.Get("conds").As<Napi::Array>();
    for (uint32_t c = 0; c < cs.Length(); c++) {
      Napi::Object co = cs.Get(c).As<Napi::Object>();
      conds[i].push_back(rt_seccomp_cond{co.Get("arg").As<Napi::Number>().Uint32Value(),
                                         co.Get("op").As<Napi::Number>().Uint32Value(), ToU64(co.Get("a")),
                                         ToU64(co.Get("b"))});
    }
    rule[i].name = names[i].c_str();
    rule[i].action = r.Get("action").As<Napi::Number>().Uint32Value();
    rule[i].ncond = (uint32_t)conds[i].size();
    rule[i].conds = conds[i].data();
  }

  rt_seccomp_profile p{};
  p.default_action = in.Get("defaultAction").As<Napi::Number>().Uint32Value();
  p.narch = (uint32_t)arch.size();
  p.arches = arch.data();
  p.log = in.Get("log").ToBoolean().Value();
  p.ssb = in.Get("ssb").ToBoolean().Value();
  p.optimize = in.Get("optimize").IsNumber() ? in.Get("optimize").As<Napi::Number>().Int32Value() : 0;
  p.nrule = (uint32_t)rule.size();
  p.rules = rule.data();

  std::vector<uint8_t> skipped(rule.size() + 1, 0);
  void *prog = nullptr;
  size_t len = 0;
  int bad = -1;
  const char *what = "";
  int r = rt_seccomp_compile(&p, skipped.data(), &prog, &len, &bad, &what);

  Napi::Object out = Napi::Object::New(env);
  if (r < 0) {
    out.Set("errno", Napi::Number::New(env, -r));
    out.Set("rule", Napi::Number::New(env, bad));
    out.Set("what", Napi::String::New(env, what));
    return out;
  }
  out.Set("program", Napi::Buffer<uint8_t>::Copy(env, (const uint8_t *)prog, len));
  free(prog);
  Napi::Array sk = Napi::Array::New(env);
  for (uint32_t i = 0; i < rule.size(); i++)
    if (skipped[i])
      sk.Set(sk.Length(), Napi::Number::New(env, i));
  out.Set("skipped", sk);
  return out;
}

static Napi::Value SeccompArch(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 1))
    return env.Undefined();
  if (info[0].IsUndefined() || info[0].IsNull())
    return Napi::Number::New(env, rt_seccomp_arch_native());
  return Napi::Number::New(env, rt_seccomp_arch(info[0].As<Napi::String>().Utf8Value().c_str()));
}

static Napi::Value SeccompSyscall(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 2))
    return env.Undefined();
  return Napi::Number::New(env, rt_seccomp_syscall(info[0].As<Napi::Number>().Uint32Value(),
                                                   info[1].As<Napi::String>().Utf8Value().c_str()));
}

static Napi::Value SeccompVersion(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  unsigned major, minor, micro, api;
  rt_seccomp_version(&major, &minor, &micro, &api);
  Napi::Object out = Napi::Object::New(env);
  out.Set("major", Napi::Number::New(env, major));
  out.Set("minor", Napi::Number::New(env, minor));
  out.Set("micro", Napi::Number::New(env, micro));
  out.Set("api", Napi::Number::New(env, api));
  return out;
}

static Napi::Value SeccompFlagSupported(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 1))
    return env.Undefined();
  return Napi::Boolean::New(env, rt_seccomp_flag_supported(info[0].As<Napi::Number>().Uint32Value()) != 0);
}

void RegisterSeccomp(Napi::Env env, Napi::Object exports)
{
  exports.Set("seccompCompile", Napi::Function::New(env, SeccompCompile));
  exports.Set("seccompArch", Napi::Function::New(env, SeccompArch));
  exports.Set("seccompSyscall", Napi::Function::New(env, SeccompSyscall));
  exports.Set("seccompFlagSupported", Napi::Function::New(env, SeccompFlagSupported));
  exports.Set("seccompVersion", Napi::Function::New(env, SeccompVersion));
}

} // namespace rt
