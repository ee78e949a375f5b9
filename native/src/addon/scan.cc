// scanDir(path, readAhead, budget): one directory's entries, each with its lstat, the content of a
// small regular file, a symlink's target and the xattrs, gathered on the libuv pool in one job
// (archives of 10,000 files spend their time in per-file round trips otherwise). Every entry is
// reached relative to the directory's fd (fstatat/openat/readlinkat, never following a final
// symlink), so the caller's pinned "/proc/self/fd/<n>" path is all it needs. No policy: the caller
// decides what to keep. A vanished entry carries its errno.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "glue.h"

namespace rt {

namespace {

struct ScanEntry {
  std::string name;
  struct stat st;
  int err = 0;
  bool hasData = false;
  std::string data;
  bool hasLink = false;
  std::string link;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

// The xattrs of name under dirfd (through /proc/self/fd: there is no *xattrat call).
void ReadXattrs(int dirfd, const std::string &name, ScanEntry &e)
{
  char path[64 + 256];
  snprintf(path, sizeof path, "/proc/self/fd/%d/%s", dirfd, name.c_str());
  ssize_t n = llistxattr(path, nullptr, 0);
  if (n <= 0)
    return;
  std::string names((size_t)n, '\0');
  n = llistxattr(path, &names[0], names.size());
  if (n <= 0)
    return;
  for (size_t off = 0; off < (size_t)n;) {
    const char *x = names.data() + off;
    size_t len = strnlen(x, (size_t)n - off);
    off += len + 1;
    if (len == 0)
      continue;
    ssize_t v = lgetxattr(path, x, nullptr, 0);
    if (v < 0)
      continue;
    std::string value((size_t)v, '\0');
    v = lgetxattr(path, x, v ? &value[0] : nullptr, value.size());
    if (v < 0)
      continue;
    value.resize((size_t)v);
    e.xattrs.emplace_back(std::string(x, len), std::move(value));
  }
}

class ScanWorker : public Napi::AsyncWorker {
public:
  ScanWorker(Napi::Env env, std::string path, size_t readAhead, size_t budget)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), path_(std::move(path)), readAhead_(readAhead), budget_(budget)
  {
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

protected:
  void Execute() override
  {
    int dirfd = open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
      err_ = errno;
      return;
    }
    int listfd = dup(dirfd);
    DIR *d = listfd >= 0 ? fdopendir(listfd) : nullptr;
    if (!d) {
      err_ = errno;
      if (listfd >= 0)
        close(listfd);
      close(dirfd);
      return;
    }
    for (struct dirent *de; (de = readdir(d)) != nullptr;) {
      if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
        continue;
      ScanEntry e;
      e.name = de->d_name;
      Visit(dirfd, e);
      entries_.push_back(std::move(e));
    }
    closedir(d);
    close(dirfd);
  }

  void OnOK() override
  {
    Napi::Env env = Env();
    if (err_ != 0) {
      Napi::Error e = Napi::Error::New(env, "scandir");
      e.Set("errno", Napi::Number::New(env, err_));
      e.Set("syscall", Napi::String::New(env, "scandir"));
      e.Set("path", Napi::String::New(env, path_));
      deferred_.Reject(e.Value());
      return;
    }
    Napi::Array out = Napi::Array::New(env, entries_.size());
    for (size_t i = 0; i < entries_.size(); i++) {
      const ScanEntry &s = entries_[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", Napi::String::New(env, s.name));
      if (s.err) {
        o.Set("errno", Napi::Number::New(env, s.err));
        out.Set(i, o);
        continue;
      }
      o.Set("mode", Napi::Number::New(env, s.st.st_mode));
      o.Set("uid", Napi::Number::New(env, s.st.st_uid));
      o.Set("gid", Napi::Number::New(env, s.st.st_gid));
      o.Set("size", Napi::Number::New(env, (double)s.st.st_size));
      o.Set("mtimeSec", Napi::Number::New(env, (double)s.st.st_mtim.tv_sec));
      o.Set("mtimeNsec", Napi::Number::New(env, (double)s.st.st_mtim.tv_nsec));
      o.Set("rdev", Napi::Number::New(env, (double)s.st.st_rdev));
      o.Set("dev", Napi::Number::New(env, (double)s.st.st_dev));
      o.Set("ino", Napi::Number::New(env, (double)s.st.st_ino));
      o.Set("nlink", Napi::Number::New(env, (double)s.st.st_nlink));
      if (s.hasData)
        o.Set("data", Napi::Buffer<char>::Copy(env, s.data.data(), s.data.size()));
      if (s.hasLink)
        o.Set("link", Napi::String::New(env, s.link));
      if (!s.xattrs.empty()) {
        Napi::Array xs = Napi::Array::New(env, s.xattrs.size());
        for (size_t j = 0; j < s.xattrs.size(); j++) {
          Napi::Array pair = Napi::Array::New(env, 2);
          pair.Set((uint32_t)0, Napi::String::New(env, s.xattrs[j].first));
          pair.Set((uint32_t)1, Napi::Buffer<char>::Copy(env, s.xattrs[j].second.data(), s.xattrs[j].second.size()));
          xs.Set(j, pair);
        }
        o.Set("xattrs", xs);
      }
      out.Set(i, o);
    }
    deferred_.Resolve(out);
  }

  void OnError(const Napi::Error &e) override { deferred_.Reject(e.Value()); }

private:
  void Visit(int dirfd, ScanEntry &e)
  {
    if (fstatat(dirfd, e.name.c_str(), &e.st, AT_SYMLINK_NOFOLLOW) < 0) {
      e.err = errno;
      return;
    }
    if (S_ISREG(e.st.st_mode) && (size_t)e.st.st_size <= readAhead_ && (size_t)e.st.st_size <= budget_) {
      int fd = openat(dirfd, e.name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
      struct stat fst;
      if (fd >= 0 && fstat(fd, &fst) == 0 && S_ISREG(fst.st_mode) && (size_t)fst.st_size <= readAhead_) {
        e.st = fst;
        e.data.resize((size_t)fst.st_size);
        size_t off = 0;
        while (off < e.data.size()) {
          ssize_t r = pread(fd, &e.data[off], e.data.size() - off, (off_t)off);
          if (r < 0 && errno == EINTR)
            continue;
          if (r <= 0)
            break;
          off += (size_t)r;
        }
        e.data.resize(off);
        e.hasData = off == (size_t)fst.st_size;
        if (e.hasData)
          budget_ -= off;
      }
      if (fd >= 0)
        close(fd);
    } else if (S_ISLNK(e.st.st_mode)) {
      std::string buf((size_t)e.st.st_size + 1, '\0');
      ssize_t n = readlinkat(dirfd, e.name.c_str(), &buf[0], buf.size());
      if (n >= 0 && (size_t)n < buf.size()) {
        buf.resize((size_t)n);
        e.link = std::move(buf);
        e.hasLink = true;
      }
    }
    ReadXattrs(dirfd, e.name, e);
  }

  Napi::Promise::Deferred deferred_;
  std::string path_;
  size_t readAhead_;
  size_t budget_;
  int err_ = 0;
  std::vector<ScanEntry> entries_;
};

// scanDir(path, readAhead, budget) -> Promise<entry[]>
Napi::Value ScanDir(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 3))
    return env.Undefined();
  auto *w = new ScanWorker(env, info[0].As<Napi::String>().Utf8Value(), (size_t)info[1].As<Napi::Number>().Int64Value(), (size_t)info[2].As<Napi::Number>().Int64Value());
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

} // namespace

void RegisterScan(Napi::Env env, Napi::Object exports)
{
  exports.Set("scanDir", Napi::Function::New(env, ScanDir, "scanDir"));
}

} // namespace rt
