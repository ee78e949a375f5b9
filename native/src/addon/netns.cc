// JS bindings of native/src/sys/netns.c: each call runs as one job on the libuv pool and returns a
// promise (the netlink round trips and namespace switches never hold the JS thread). Argument
// conversion and errors only.
#include <arpa/inet.h>
#include <functional>

#include "glue.h"
#include "rt/netns.h"

namespace rt {

namespace {

class NetWorker : public Napi::AsyncWorker {
public:
  NetWorker(Napi::Env env, const char *syscall, std::string path, std::function<int(const char **)> fn)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), syscall_(syscall), path_(std::move(path)), fn_(std::move(fn))
  {
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

protected:
  void Execute() override { r_ = fn_(&step_); }

  void OnOK() override
  {
    Napi::Env env = Env();
    if (r_ >= 0) {
      deferred_.Resolve(env.Undefined());
      return;
    }
    std::string what = step_ ? std::string(syscall_) + ": " + step_ : syscall_;
    Napi::Error e = Napi::Error::New(env, what);
    e.Set("errno", Napi::Number::New(env, -r_));
    e.Set("syscall", Napi::String::New(env, what));
    if (!path_.empty())
      e.Set("path", Napi::String::New(env, path_));
    deferred_.Reject(e.Value());
  }

private:
  Napi::Promise::Deferred deferred_;
  const char *syscall_;
  std::string path_;
  std::function<int(const char **)> fn_;
  const char *step_ = nullptr;
  int r_ = 0;
};

Napi::Value Queue(Napi::Env env, NetWorker *w)
{
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// netnsCreate(path): a new netns bind-mounted on the existing file path, lo up.
Napi::Value NetnsCreate(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 1))
    return env.Undefined();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  return Queue(env, new NetWorker(env, "netns create", path, [path](const char **) { return rt_netns_create(path.c_str()); }));
}

// vethAdd({hostIf, ifname, bridge, alias, netns, mac: Buffer(6), address, prefix, gateway?})
Napi::Value VethAdd(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 1))
    return env.Undefined();
  Napi::Object o = info[0].As<Napi::Object>();
  struct Strings {
    std::string hostIf, ifname, bridge, alias, netns;
  };
  auto s = std::make_shared<Strings>(Strings{o.Get("hostIf").As<Napi::String>().Utf8Value(), o.Get("ifname").As<Napi::String>().Utf8Value(),
                                             o.Get("bridge").As<Napi::String>().Utf8Value(), o.Get("alias").As<Napi::String>().Utf8Value(),
                                             o.Get("netns").As<Napi::String>().Utf8Value()});
  struct rt_veth v = {};
  Napi::Buffer<uint8_t> mac = o.Get("mac").As<Napi::Buffer<uint8_t>>();
  if (mac.Length() != 6) {
    Napi::TypeError::New(env, "mac must be 6 bytes").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  memcpy(v.mac, mac.Data(), 6);
  std::string addr = o.Get("address").As<Napi::String>().Utf8Value();
  v.prefix = o.Get("prefix").As<Napi::Number>().Int32Value();
  Napi::Value gw = o.Get("gateway");
  if (inet_pton(AF_INET, addr.c_str(), &v.addr) != 1 || (gw.IsString() && inet_pton(AF_INET, gw.As<Napi::String>().Utf8Value().c_str(), &v.gw) != 1)) {
    Napi::TypeError::New(env, "bad IPv4 address").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  v.has_gw = gw.IsString();
  return Queue(env, new NetWorker(env, "veth add", s->hostIf, [s, v](const char **step) mutable {
                 v.host_if = s->hostIf.c_str();
                 v.ifname = s->ifname.c_str();
                 v.bridge = s->bridge.c_str();
                 v.alias = s->alias.c_str();
                 v.netns = s->netns.c_str();
                 return rt_veth_add(&v, step);
               }));
}

// linkDel(name): RTM_DELLINK in the daemon's netns.
Napi::Value LinkDel(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 1))
    return env.Undefined();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  return Queue(env, new NetWorker(env, "link del", name, [name](const char **) { return rt_link_del(name.c_str()); }));
}

// linkUnbridge(name): off its bridge and down.
Napi::Value LinkUnbridge(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 1))
    return env.Undefined();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  return Queue(env, new NetWorker(env, "link unbridge", name, [name](const char **) { return rt_link_unbridge(name.c_str()); }));
}

} // namespace

void RegisterNetns(Napi::Env env, Napi::Object exports)
{
  exports.Set("netnsCreate", Napi::Function::New(env, NetnsCreate, "netnsCreate"));
  exports.Set("vethAdd", Napi::Function::New(env, VethAdd, "vethAdd"));
  exports.Set("linkUnbridge", Napi::Function::New(env, LinkUnbridge, "linkUnbridge"));
  exports.Set("linkDel", Napi::Function::New(env, LinkDel, "linkDel"));
}

} // namespace rt
