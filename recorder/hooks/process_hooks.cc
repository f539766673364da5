// Process life cycle: exit status, _exit, exec (finish the trace; strip or mark the recorder's
// environment for the new image), posix_spawn, dlopen/dlclose (new module maps).
#include <dlfcn.h>
#include <spawn.h>
#include <unistd.h>

#include <cstdarg>
#include <cstring>
#include <string>
#include <vector>

#include "hook_support.h"

extern char** environ;

using namespace tierscope::recorder;

namespace {

// The environment a child image gets: without the recorder unless --follow-exec, in which case
// it is told which process exec'd it (to pick its own trace file name).
class ChildEnv {
 public:
  explicit ChildEnv(char* const* envp) {
    const bool follow = FollowExec();
    for (char* const* e = envp; e != nullptr && *e != nullptr; ++e) {
      std::string entry = *e;
      if (entry.rfind("TIERSCOPE_EXEC_OF=", 0) == 0) continue;
      if (!follow && entry.rfind("TIERSCOPE_", 0) == 0 &&
          entry.rfind("TIERSCOPE_EXAMPLE", 0) != 0) {
        continue;
      }
      if (!follow && entry.rfind("LD_PRELOAD=", 0) == 0) entry = WithoutRecorder(entry);
      strings_.push_back(std::move(entry));
    }
    if (follow) strings_.push_back("TIERSCOPE_EXEC_OF=" + std::to_string(getpid()));
    for (auto& s : strings_) pointers_.push_back(s.data());
    pointers_.push_back(nullptr);
  }
  char* const* get() { return pointers_.data(); }

 private:
  static std::string WithoutRecorder(const std::string& entry) {
    std::string out = "LD_PRELOAD=";
    std::string list = entry.substr(11);
    size_t pos = 0;
    bool first = true;
    while (pos <= list.size()) {
      size_t end = list.find_first_of(": ", pos);
      if (end == std::string::npos) end = list.size();
      const std::string item = list.substr(pos, end - pos);
      if (!item.empty() && item.find("libtierscope-recorder") == std::string::npos) {
        out += (first ? "" : ":") + item;
        first = false;
      }
      pos = end + 1;
    }
    return out;
  }
  std::vector<std::string> strings_;
  std::vector<char*> pointers_;
};

int DoExecve(const char* path, char* const argv[], char* const envp[], bool search) {
  if (!Ready(real.execve) || real.execve == nullptr) return -1;
  int r;
  {
    HookScope scope;
    ChildEnv env(envp);
    // The image is about to be replaced (destructors will not run): a checkpoint writes all so
    // far, with an "exec" footer. A path that is certainly not executable skips it, as the exec
    // will fail; when an exec fails anyway, it returns here and the trace simply goes on.
    if (search || access(path, X_OK) == 0) BeforeExec();
    r = search ? real.execvpe(path, argv, env.get()) : real.execve(path, argv, env.get());
  }
  return r;
}

std::vector<char*> CollectArgs(const char* arg0, va_list ap, char*** envp_out) {
  std::vector<char*> args;
  args.push_back(const_cast<char*>(arg0));
  while (char* a = va_arg(ap, char*)) args.push_back(a);
  args.push_back(nullptr);
  if (envp_out != nullptr) *envp_out = va_arg(ap, char**);
  return args;
}

}  // namespace

TS_EXPORT void exit(int status) {
  SetExitStatus(status);
  Ready(real.exit);
  real.exit(status);
  __builtin_unreachable();
}

TS_EXPORT void _exit(int status) {
  // In a vfork child (our memory, not our process) nothing of ours may run.
  if (IsRootProcess()) Finish("_exit", status, false);
  Ready(real._exit);
  real._exit(status);
  __builtin_unreachable();
}

TS_EXPORT void _Exit(int status) {
  _exit(status);
}

TS_EXPORT int execve(const char* path, char* const argv[], char* const envp[]) {
  return DoExecve(path, argv, envp, false);
}
TS_EXPORT int execv(const char* path, char* const argv[]) {
  return DoExecve(path, argv, environ, false);
}
TS_EXPORT int execvpe(const char* file, char* const argv[], char* const envp[]) {
  return DoExecve(file, argv, envp, true);
}
TS_EXPORT int execvp(const char* file, char* const argv[]) {
  return DoExecve(file, argv, environ, true);
}
// By descriptor: the C library's fexecve calls the execveat system call itself, past execve.
// Unhooked, the image before it lost its last events (or all of them: an empty trace), and the
// exec'd image was not told who exec'd it (tests/faults, exec_chain).
TS_EXPORT int fexecve(int fd, char* const argv[], char* const envp[]) {
  if (!Ready(real.fexecve) || real.fexecve == nullptr) return -1;
  HookScope scope;
  ChildEnv env(envp);
  BeforeExec();
  return real.fexecve(fd, argv, env.get());
}
TS_EXPORT int execveat(int dirfd, const char* path, char* const argv[], char* const envp[],
                       int flags) {
  if (!Ready(real.execveat) || real.execveat == nullptr) return -1;
  HookScope scope;
  ChildEnv env(envp);
  BeforeExec();
  return real.execveat(dirfd, path, argv, env.get(), flags);
}
TS_EXPORT int execl(const char* path, const char* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  std::vector<char*> args;
  {
    HookScope scope;
    args = CollectArgs(arg, ap, nullptr);
  }
  va_end(ap);
  return DoExecve(path, args.data(), environ, false);
}
TS_EXPORT int execlp(const char* file, const char* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  std::vector<char*> args;
  {
    HookScope scope;
    args = CollectArgs(arg, ap, nullptr);
  }
  va_end(ap);
  return DoExecve(file, args.data(), environ, true);
}
TS_EXPORT int execle(const char* path, const char* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  std::vector<char*> args;
  char** envp = nullptr;
  {
    HookScope scope;
    args = CollectArgs(arg, ap, &envp);
  }
  va_end(ap);
  return DoExecve(path, args.data(), envp, false);
}

TS_EXPORT int posix_spawn(pid_t* pid, const char* path, const posix_spawn_file_actions_t* actions,
                          const posix_spawnattr_t* attr, char* const argv[], char* const envp[]) {
  if (!Ready(real.posix_spawn) || real.posix_spawn == nullptr) return ENOSYS;
  HookScope scope;
  ChildEnv env(envp);
  return real.posix_spawn(pid, path, actions, attr, argv, env.get());
}

TS_EXPORT int posix_spawnp(pid_t* pid, const char* file, const posix_spawn_file_actions_t* actions,
                           const posix_spawnattr_t* attr, char* const argv[], char* const envp[]) {
  if (!Ready(real.posix_spawnp) || real.posix_spawnp == nullptr) return ENOSYS;
  HookScope scope;
  ChildEnv env(envp);
  return real.posix_spawnp(pid, file, actions, attr, argv, env.get());
}

TS_EXPORT void* dlopen(const char* file, int mode) {
  if (!Ready(real.dlopen) || real.dlopen == nullptr) return nullptr;
  void* handle = real.dlopen(file, mode);
  if (handle != nullptr) {
    HookScope scope;
    OnModulesChanged();
  }
  return handle;
}

TS_EXPORT int dlclose(void* handle) {
  if (!Ready(real.dlclose) || real.dlclose == nullptr) return -1;
  const int r = real.dlclose(handle);
  if (r == 0) {
    HookScope scope;
    OnModulesChanged();
  }
  return r;
}
