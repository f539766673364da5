// Hashes shared by the run-time cache (raw return addresses) and the plan's key table
// ((module identity, offset) pairs). Both are order-sensitive: innermost frame first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tierscope::placer {

inline uint64_t MixHash(uint64_t h, uint64_t v) {
  h = (h ^ v) * 0x9E3779B97F4A7C15ull;
  return h ^ (h >> 29);
}

inline uint64_t HashFrames(const uint64_t* frames, size_t n) {
  uint64_t h = 0x243F6A8885A308D3ull + n;
  for (size_t i = 0; i < n; ++i) h = MixHash(h, frames[i]);
  return h;
}

// A module's identity: its build-id bytes, or its file name (no folder) when it has none.
inline uint64_t HashBytes(std::string_view bytes) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001B3ull;
  return h | 1;  // 0 means "no module"
}

inline std::string_view BaseName(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

struct ModuleOffset {
  uint64_t identity = 0;  // 0: the address is in no known module
  uint64_t offset = 0;
};

inline uint64_t HashKey(const ModuleOffset* frames, size_t n) {
  uint64_t h = 0x13198A2E03707344ull + n;
  for (size_t i = 0; i < n; ++i) h = MixHash(MixHash(h, frames[i].identity), frames[i].offset);
  return h;
}

}  // namespace tierscope::placer
