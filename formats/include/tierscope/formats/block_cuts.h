// Where the zstd frame of a serialized trace chunk starts a new block.
//
// A chunk's columns (an alloc batch's times, sizes, addresses...) each have statistics of their
// own, but zstd codes each 128 KiB block with one set of entropy tables, and such blocks straddle
// columns. Flushed at the columns, each block's tables fit one column: traces are 3.7-10% smaller
// (docs/benchmarks.md, "Formats"), for 3-7% more compression time. The payload is still one
// frame, readable by any zstd decoder.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace tierscope::formats {

// Blocks shorter than this cost more in block headers and tables than they gain.
inline constexpr size_t kMinBlockBytes = 4096;

// Offsets in `chunk` (a serialized trace::TraceChunk) where a block should start, ascending,
// each at least `min_block` bytes after the one before: the starts of its top-level fields and
// of the fields (columns) of its alloc and sample batches. Replaces *cuts. Bytes that do not parse
// as a message leave no cut from there on.
void BlockCuts(std::string_view chunk, std::vector<size_t>* cuts,
               size_t min_block = kMinBlockBytes);

}  // namespace tierscope::formats
