// A site's match key: the one definition the placer (at run time, from return addresses), the
// analyzer's replay (`tierscope evaluate`, from a trace's stacks) and the plan's key table (from a
// profile's sites) all compute, so that what the replay scores is what the placer enforces.
//
// A frame is (module identity, offset): identity hashes the module's GNU build-id, or its file
// name without folder when it has none (so a profile survives a move of the module); offset is the
// ELF virtual address (address - load bias). Keys are order-sensitive, innermost frame first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tierscope::common {

inline uint64_t MixHash(uint64_t h, uint64_t v) {
  h = (h ^ v) * 0x9E3779B97F4A7C15ull;
  return h ^ (h >> 29);
}

// The placer's cache key of raw return addresses (valid within one process only), computed on
// every routed allocation. Each frame is multiplied by an odd constant of its own (products the
// CPU overlaps, where a chain of mixes waits for each step), then the sum's high half is folded
// into its low half (the cache's slot index), a bijection: stacks that differ in one frame never
// collide before the cache drops the low byte.
inline uint64_t HashFrames(const uint64_t* frames, size_t n) {
  static constexpr uint64_t kOdd[8] = {
      0x9E3779B97F4A7C15ull, 0xC2B2AE3D27D4EB4Full, 0x165667B19E3779F9ull, 0xD6E8FEB86659FD93ull,
      0xFF51AFD7ED558CCDull, 0xC4CEB9FE1A85EC53ull, 0x94D049BB133111EBull, 0xBF58476D1CE4E5B9ull};
  uint64_t h = 0x243F6A8885A308D3ull + n;
  for (size_t i = 0; i < n; ++i) h += frames[i] * (kOdd[i & 7] + 2 * (i >> 3));
  return h ^ (h >> 32);
}

inline uint64_t HashBytes(std::string_view bytes) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001B3ull;
  return h | 1;  // 0 means "no module"
}

inline std::string_view BaseName(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// A module's identity: its build-id bytes, or its file name (no folder) when it has none.
inline uint64_t ModuleIdentity(std::string_view build_id, std::string_view path) {
  return build_id.empty() ? HashBytes(BaseName(path)) : HashBytes(build_id);
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

// The plan's per-prefix rules (PlacementIndex.prefix_keys): the key of a stack's innermost frames
// as the start of deeper stacks, kept apart from the key of a stack that ends there (HashKey of
// the same frames). Raw return addresses likewise in the placer's cache (HashFrames).
inline uint64_t PrefixKey(uint64_t key) {
  return MixHash(key, 0x5851F42D4C957F2Dull);
}
inline uint64_t PrefixFrames(uint64_t raw_hash) {
  return raw_hash ^ 0xD1B54A32D192ED00ull;  // the low byte (the cache's code) left alone
}

// The key of a profile site's innermost `depth` locations. `Site` is profile::Site (any type with
// stack() of locations that have build_id(), module() and offset()): a template keeps this header
// free of the generated protobuf code.
// The frames of that key into `key` (room for `depth`, at most 64); returns how many.
template <typename Site>
size_t SiteKeyFrames(const Site& site, size_t depth, ModuleOffset* key) {
  size_t n = 0;
  for (const auto& loc : site.stack()) {
    if (n == depth || n == 64) break;
    key[n].identity = ModuleIdentity(loc.build_id(), loc.module());
    key[n].offset = loc.offset();
    ++n;
  }
  return n;
}

template <typename Site>
uint64_t SiteMatchKey(const Site& site, size_t depth) {
  ModuleOffset key[64];
  return HashKey(key, SiteKeyFrames(site, depth, key));
}

}  // namespace tierscope::common
