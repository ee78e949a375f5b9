// JS bindings of the mount API wrappers in native/src/sys/mnt.c: argument conversion and errors only.
#include "glue.h"
#include "rt/mnt.h"

namespace rt {

namespace {

Napi::Value OpenTree(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 2))
    return env.Undefined();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int r = rt_open_tree(path.c_str(), info[1].As<Napi::Number>().Uint32Value());
  if (r < 0) {
    ThrowErrno(env, r, "open_tree", path);
    return env.Undefined();
  }
  return Napi::Number::New(env, r);
}

// mountSetattr(fd, path, flags, attrSet, attrClr, usernsFd)
Napi::Value MountSetattr(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 6))
    return env.Undefined();
  std::string path = info[1].As<Napi::String>().Utf8Value();
  int r = rt_mount_setattr(info[0].As<Napi::Number>().Int32Value(), path.c_str(), info[2].As<Napi::Number>().Uint32Value(),
                           (uint64_t)info[3].As<Napi::Number>().Int64Value(), (uint64_t)info[4].As<Napi::Number>().Int64Value(),
                           info[5].As<Napi::Number>().Int32Value());
  if (r < 0)
    ThrowErrno(env, r, "mount_setattr");
  return env.Undefined();
}

Napi::Value SpawnUsernsHolder(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  int pidfd = -1;
  int pid = rt_spawn_userns_holder(&pidfd);
  if (pid < 0) {
    ThrowErrno(env, pid, "clone3");
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, pid));
  out.Set("pidfd", Napi::Number::New(env, pidfd));
  return out;
}

} // namespace

void RegisterMnt(Napi::Env env, Napi::Object exports)
{
  exports.Set("openTree", Napi::Function::New(env, OpenTree, "openTree"));
  exports.Set("mountSetattr", Napi::Function::New(env, MountSetattr, "mountSetattr"));
  exports.Set("spawnUsernsHolder", Napi::Function::New(env, SpawnUsernsHolder, "spawnUsernsHolder"));
}

} // namespace rt
