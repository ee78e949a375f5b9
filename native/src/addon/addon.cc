// Entry point of keel.node: registers each group of bindings. No logic.
#include "glue.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports)
{
  rt::RegisterSys(env, exports);
  return exports;
}

NODE_API_MODULE(keel, Init)
