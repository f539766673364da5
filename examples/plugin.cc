// libts-example-plugin.so: loaded and unloaded twice by ts-example-dlopen. Every allocation here
// happens inside this module, so a trace must attribute it to a frame in this library even after
// the library is unloaded (module maps are re-emitted on dlopen/dlclose).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace {

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

// The allocation site inside the plugin.
extern "C" __attribute__((noinline, visibility("default"))) void* ts_plugin_alloc(size_t bytes) {
  void* p = std::malloc(bytes);
  asm volatile("" : : "r"(p) : "memory");  // work after the call: no tail call
  return p;
}

// Allocates `blocks` blocks of 64..4096 B, fills and sums them, frees all but the last one,
// which it returns through *keep (the caller frees it after dlclose). Counts the calls it makes.
// Returns the checksum, or 0 with *keep == nullptr if an allocation failed.
extern "C" __attribute__((visibility("default"))) uint64_t ts_plugin_run(
    uint64_t seed, uint64_t blocks, void** keep, uint64_t* mallocs, uint64_t* frees) {
  uint64_t sum = 0;
  *keep = nullptr;
  for (uint64_t i = 0; i < blocks; ++i) {
    size_t words = size_t{8} << (mix64(seed + i) % 7);  // 64..4096 B
    auto* w = static_cast<uint64_t*>(ts_plugin_alloc(words * 8));
    if (w == nullptr) return 0;
    ++*mallocs;
    for (size_t j = 0; j < words; ++j) w[j] = mix64(seed ^ (i << 20) ^ j);
    for (size_t j = 0; j < words; j += 8) sum += w[j];
    if (i + 1 == blocks) {
      *keep = w;
    } else {
      std::free(w);
      ++*frees;
    }
  }
  return sum;
}
