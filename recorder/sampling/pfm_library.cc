#include "pfm_library.h"

#include <dlfcn.h>

#include <mutex>

namespace tierscope::recorder::sampling {
namespace {

// The soname of Debian's libpfm4 package (and of upstream's 4.x).
constexpr const char* kPfmSoname = "libpfm.so.4";

struct Loaded {
  PfmLibrary library;
  std::string error;  // empty when loaded and initialized
};

template <typename Fn>
bool Resolve(void* handle, const char* name, Fn* out) {
  *out = reinterpret_cast<Fn>(dlsym(handle, name));
  return *out != nullptr;
}

Loaded Load() {
  Loaded l;
  void* handle = dlopen(kPfmSoname, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    l.error = std::string("pebs: cannot load libpfm4 (") + (why ? why : kPfmSoname) +
              "): install the libpfm4 package, or use --sampler timer";
    return l;
  }
  decltype(&pfm_initialize) initialize = nullptr;
  if (!Resolve(handle, "pfm_initialize", &initialize) ||
      !Resolve(handle, "pfm_strerror", &l.library.strerror) ||
      !Resolve(handle, "pfm_get_pmu_info", &l.library.get_pmu_info) ||
      !Resolve(handle, "pfm_get_os_event_encoding", &l.library.get_os_event_encoding)) {
    l.error = std::string("pebs: ") + kPfmSoname + " lacks a libpfm4 4.x entry point";
    return l;
  }
  const int status = initialize();
  if (status != PFM_SUCCESS) {
    l.error = std::string("pebs: libpfm4 initialization failed: ") + l.library.strerror(status);
  }
  return l;  // the handle stays open for the process's life, as a linked library would
}

}  // namespace

const PfmLibrary* Pfm(std::string* error) {
  static std::once_flag once;
  static Loaded* loaded = nullptr;
  std::call_once(once, [] { loaded = new Loaded(Load()); });
  if (!loaded->error.empty()) {
    if (error) *error = loaded->error;
    return nullptr;
  }
  return &loaded->library;
}

}  // namespace tierscope::recorder::sampling
