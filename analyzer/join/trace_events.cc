#include "join/trace_events.h"

#include <algorithm>

#include "tierscope/formats/alloc_columns.h"
#include "tierscope/formats/sample_columns.h"
#include "tierscope/formats/trace_io.h"

namespace tierscope::analyzer {
namespace {

formats::FormatError Damage(const std::string& path, uint64_t offset, std::string what) {
  return formats::FormatError{formats::FormatError::Kind::kCorrupt, path, offset, std::move(what)};
}

}  // namespace

TraceContents LoadTrace(const std::string& path, const LoadOptions& options) {
  TraceContents out;
  formats::TraceReader reader(path);
  if (!reader.error() && reader.container().kind() != formats::FileKind::kTrace) {
    out.error = formats::FormatError{
        formats::FormatError::Kind::kWrongKind, path, 12,
        std::string("is a ") + formats::FileKindName(reader.container().kind()) + ", not a trace"};
    return out;
  }
  trace::TraceChunk chunk;
  formats::ChunkInfo info;
  bool any_chunk = false;
  while (reader.Next(&chunk, &info)) {
    any_chunk = true;
    if (options.cancel && options.cancel->load(std::memory_order_relaxed)) {
      out.cancelled = true;
      break;
    }
    if (chunk.has_header()) out.header = chunk.header();
    for (const auto& map : chunk.module_maps()) {
      for (const auto& module : map.modules()) out.modules.push_back(module);
    }
    for (const auto& stack : chunk.stacks()) out.stacks[stack.id()] = stack;
    for (const auto& batch : chunk.allocs()) {
      formats::AllocBatchCursor cursor(batch);
      formats::AllocEvent e;
      while (cursor.Next(&e)) {
        out.events.push_back(JoinEvent{e.time_ns, e.address, e.size, e.stack_id,
                                       static_cast<uint16_t>(e.kind), 0, 0});
      }
      if (!cursor.error().empty()) {
        out.error =
            Damage(path, info.offset,
                   "alloc batch of thread " + std::to_string(batch.tid()) + ": " + cursor.error());
        break;
      }
    }
    for (const auto& batch : chunk.samples()) {
      formats::SampleBatchCursor cursor(batch);
      formats::AccessSample s;
      while (cursor.Next(&s)) {
        out.events.push_back(JoinEvent{s.time_ns, s.address, s.weight, 0, kSampleKind,
                                       static_cast<uint8_t>(s.access),
                                       static_cast<uint8_t>(batch.source())});
      }
      if (!cursor.error().empty()) {
        out.error =
            Damage(path, info.offset,
                   "sample batch of thread " + std::to_string(batch.tid()) + ": " + cursor.error());
        break;
      }
    }
    if (chunk.has_counters()) out.counters = chunk.counters();
    if (chunk.has_footer()) {
      out.has_footer = true;
      out.footer = chunk.footer();
    }
    if (out.error) break;
    if (options.progress && reader.container().file_size() > 0) {
      options.progress(0.5 * double(reader.container().offset()) /
                       double(reader.container().file_size()));
    }
  }
  if (!out.error && reader.error()) out.error = reader.error();
  if (!out.error && !any_chunk) {
    out.error = formats::FormatError{formats::FormatError::Kind::kEmpty, path,
                                     formats::kFileHeaderSize, "trace holds no chunk"};
  }
  // Allocator events before samples at the same nanosecond: a block allocated and touched within
  // one clock tick must receive the touch.
  std::stable_sort(out.events.begin(), out.events.end(),
                   [](const JoinEvent& a, const JoinEvent& b) {
                     if (a.time_ns != b.time_ns) return a.time_ns < b.time_ns;
                     return (a.kind == kSampleKind) < (b.kind == kSampleKind);
                   });
  return out;
}

}  // namespace tierscope::analyzer
