// N-API glue helpers shared by the addon's files: argument checks and SysError-shaped throws.
// No logic lives here; built without C++ exceptions, so every throw is followed by a return.
#ifndef RT_GLUE_H
#define RT_GLUE_H

#include <napi.h>
#include <string>

namespace rt {

// Throws an Error carrying {errno, syscall, path}; src/native turns it into a SysError.
inline void ThrowErrno(Napi::Env env, int neg_errno, const char *syscall, const std::string &path = "")
{
  Napi::Error e = Napi::Error::New(env, syscall);
  e.Set("errno", Napi::Number::New(env, neg_errno < 0 ? -neg_errno : neg_errno));
  e.Set("syscall", Napi::String::New(env, syscall));
  if (!path.empty())
    e.Set("path", Napi::String::New(env, path));
  e.ThrowAsJavaScriptException();
}

inline bool CheckArgs(const Napi::CallbackInfo &info, size_t n)
{
  if (info.Length() < n) {
    Napi::TypeError::New(info.Env(), "wrong number of arguments").ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

void RegisterSys(Napi::Env env, Napi::Object exports);

} // namespace rt

#endif
