// ts-example-dlopen: dlopen()s libts-example-plugin.so (next to this executable), lets it allocate
// and free memory from inside the library, keeps one block it allocated, dlclose()s it, frees the
// kept block (its allocation stack now points into an unloaded module), and repeats. The plugin's
// own malloc/free calls are counted too; dlopen/dlclose themselves allocate inside libc (not
// counted).
#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "example_common.h"

namespace {

constexpr const char* kProg = "ts-example-dlopen";
using RunFn = uint64_t (*)(uint64_t, uint64_t, void**, uint64_t*, uint64_t*);

// Directory of /proc/self/exe + "/libts-example-plugin.so".
bool default_plugin_path(char* out, size_t cap) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return false;
  exe[n] = '\0';
  char* slash = std::strrchr(exe, '/');
  if (slash == nullptr) return false;
  *slash = '\0';
  return std::snprintf(out, cap, "%s/libts-example-plugin.so", exe) < static_cast<int>(cap);
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t rounds = 2, blocks = 1000;
  char path[PATH_MAX] = "";
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf(
          "usage: %s [--rounds N] [--blocks N] [--plugin PATH]\n"
          "Loads the plugin, lets it allocate from inside the library, unloads it; N times.\n"
          "  --rounds N     dlopen/dlclose cycles, 1..10000 (default 2)\n"
          "  --blocks N     blocks the plugin allocates per round, 1..10000000 (default 1000)\n"
          "  --plugin PATH  plugin to load (default: libts-example-plugin.so next to this "
          "program)\n"
          "Env TIERSCOPE_EXAMPLE_COUNTS=1 prints this program's own allocation calls on stderr.\n",
          kProg);
      return 0;
    }
    if (a == "--plugin" || a.starts_with("--plugin=")) {
      const char* v = a == "--plugin" ? (i + 1 < argc ? argv[++i] : nullptr) : argv[i] + 9;
      if (v == nullptr) ts_example::usage_error(kProg, "missing value for", "--plugin");
      if (*v == '\0' || std::strlen(v) >= sizeof path) {
        ts_example::usage_error(kProg, "bad plugin path", v);
      }
      std::strcpy(path, v);
      continue;
    }
    using ts_example::parse_u64_opt;
    if (parse_u64_opt(kProg, argc, argv, &i, "--rounds", 1, 10000, &rounds) ||
        parse_u64_opt(kProg, argc, argv, &i, "--blocks", 1, 10000000, &blocks)) {
      continue;
    }
    ts_example::usage_error(kProg, "unknown argument", argv[i]);
  }
  if (path[0] == '\0' && !default_plugin_path(path, sizeof path)) {
    std::fprintf(stderr, "%s: cannot locate the plugin from /proc/self/exe\n", kProg);
    return 1;
  }

  uint64_t sum = 0, mallocs = 0, frees = 0;
  for (uint64_t r = 0; r < rounds; ++r) {
    void* lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      std::fprintf(stderr, "%s: dlopen failed: %s\n", kProg, dlerror());
      return 1;
    }
    auto run = reinterpret_cast<RunFn>(dlsym(lib, "ts_plugin_run"));
    if (run == nullptr) {
      std::fprintf(stderr, "%s: dlsym(ts_plugin_run) failed: %s\n", kProg, dlerror());
      return 1;
    }
    void* keep = nullptr;
    sum += run(ts_example::mix64(r + 1), blocks, &keep, &mallocs, &frees);
    if (keep == nullptr) {
      std::fprintf(stderr, "%s: plugin allocation failed\n", kProg);
      return 1;
    }
    if (dlclose(lib) != 0) {
      std::fprintf(stderr, "%s: dlclose failed: %s\n", kProg, dlerror());
      return 1;
    }
    sum += *static_cast<uint64_t*>(keep);  // the block outlives the module that allocated it
    std::free(keep);
    ++frees;
  }
  ts_example::count(ts_example::kMalloc, mallocs);
  ts_example::count(ts_example::kFree, frees);
  std::printf("dlopen: rounds=%" PRIu64 " blocks=%" PRIu64 " checksum=0x%016" PRIx64 "\n", rounds,
              blocks, sum);
  std::fflush(stdout);
  ts_example::print_counts(kProg);
  return 0;
}
