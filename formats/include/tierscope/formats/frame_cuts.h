// Where a serialized trace chunk is cut into separately compressed zstd frames.
//
// A chunk's columns (an alloc batch's times, sizes, addresses...) each have statistics of their
// own, but one zstd frame codes them with tables shared by whole 128 KiB blocks, which straddle
// columns. Cut at the columns, each frame's tables fit one column: traces are 3.5-10% smaller
// (docs/benchmarks.md, "Formats"), for ~10% more compression time, and the payload still reads as
// one stream (zstd decompresses concatenated frames back to back).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace tierscope::formats {

// Frames shorter than this cost more in frame headers and cold tables than they gain.
inline constexpr size_t kMinFrameBytes = 4096;

// Offsets in `chunk` (a serialized trace::TraceChunk) where a frame should start, ascending, each
// at least `min_frame` bytes after the one before: the starts of its top-level fields and of the
// fields (columns) of its alloc and sample batches. Replaces *cuts. Bytes that do not parse as a
// message leave no cut there (the chunk is then one frame from that point on).
void FrameCuts(std::string_view chunk, std::vector<size_t>* cuts, size_t min_frame = kMinFrameBytes);

}  // namespace tierscope::formats
