// Entry point of keel.node: registers each group of bindings. No logic.
#include "glue.h"

namespace rt {
void RegisterBpf(Napi::Env env, Napi::Object exports); // bpf.cc
}

static Napi::Object Init(Napi::Env env, Napi::Object exports)
{
  rt::RegisterSys(env, exports);
  rt::RegisterBpf(env, exports);
  return exports;
}

NODE_API_MODULE(keel, Init)
