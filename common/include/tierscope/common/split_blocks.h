// A planned block too large for the room its tier has left is split, not spilled whole: its
// first pages take that room, the rest goes to the next tier. First-touch does this page by page
// for every large mapping; a placer that moved such a block whole would leave the room it cannot
// fill empty and lose to it. The placer (placer/src/split_blocks) and the replay
// (analyzer/replay) apply the same rule, from the same size.
#pragma once

#include <cstdint>

namespace tierscope::common {

// Blocks from this size may be split (smaller ones spill whole: too little room to matter, and
// they share pages with their neighbours).
inline constexpr uint64_t kSplitFromBytes = uint64_t{1} << 20;
// The split falls on a page boundary; the head is at least this many bytes.
inline constexpr uint64_t kSplitPageBytes = 4096;
inline constexpr uint64_t kMinSplitHeadBytes = 64 * 1024;

}  // namespace tierscope::common
