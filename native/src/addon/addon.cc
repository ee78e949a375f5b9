// Entry point of keel.node: registers each group of bindings. No logic.
#include "glue.h"

namespace rt {
void RegisterBpf(Napi::Env env, Napi::Object exports); // bpf.cc
void RegisterSeccomp(Napi::Env env, Napi::Object exports); // seccomp.cc
void RegisterProc(Napi::Env env, Napi::Object exports); // proc.cc
void RegisterSpawn(Napi::Env env, Napi::Object exports); // spawn.cc
void RegisterShim(Napi::Env env, Napi::Object exports); // shim.cc
void RegisterMnt(Napi::Env env, Napi::Object exports); // mnt.cc
void RegisterScan(Napi::Env env, Napi::Object exports); // scan.cc
void RegisterNetns(Napi::Env env, Napi::Object exports); // netns.cc
}

static Napi::Object Init(Napi::Env env, Napi::Object exports)
{
  rt::RegisterSys(env, exports);
  rt::RegisterBpf(env, exports);
  rt::RegisterSeccomp(env, exports);
  rt::RegisterProc(env, exports);
  rt::RegisterSpawn(env, exports);
  rt::RegisterShim(env, exports);
  rt::RegisterMnt(env, exports);
  rt::RegisterScan(env, exports);
  rt::RegisterNetns(env, exports);
  return exports;
}

NODE_API_MODULE(keel, Init)
