#include "join/trace_index.h"

#include <algorithm>

#include "tierscope/formats/batch_summary.h"
#include "tierscope/formats/trace_io.h"

namespace tierscope::analyzer {
namespace {

formats::FormatError Damage(const std::string& path, uint64_t offset, std::string what) {
  return formats::FormatError{formats::FormatError::Kind::kCorrupt, path, offset, std::move(what)};
}

class Indexer {
 public:
  Indexer(TraceIndex* out, const std::string& path) : out_(out), path_(path) {}

  // Records one batch; false when it is damaged (then out_->error names it).
  bool Add(const formats::BatchSummary& summary, uint64_t stream_key, uint32_t index, bool sample,
           uint32_t tid, const formats::ChunkInfo& info) {
    auto [it, added] = stream_ids_.emplace(stream_key, out_->streams);
    if (added) ++out_->streams;
    if (summary.events > 0) {
      if (out_->chunks.empty() || out_->chunks.back().offset != info.offset) {
        out_->chunks.push_back({info.offset, static_cast<uint32_t>(out_->batches.size())});
      }
      out_->batches.push_back({static_cast<uint32_t>(out_->chunks.size() - 1), index, it->second,
                               sample, summary.events, summary.first_time_ns,
                               summary.last_time_ns});
      out_->event_count += static_cast<uint64_t>(summary.events);
    }
    if (summary.error.empty()) return true;
    out_->error = Damage(path_, info.offset,
                         std::string(sample ? "sample" : "alloc") + " batch of thread " +
                             std::to_string(tid) + ": " + summary.error);
    return false;
  }

 private:
  TraceIndex* out_;
  const std::string& path_;
  std::unordered_map<uint64_t, uint32_t> stream_ids_;  // tid << 1 | is_sample
};

}  // namespace

TraceIndex IndexTrace(const std::string& path, const LoadOptions& options) {
  TraceIndex out;
  formats::TraceReader reader(path);
  if (!reader.error() && reader.container().kind() != formats::FileKind::kTrace) {
    out.error = formats::FormatError{
        formats::FormatError::Kind::kWrongKind, path, 12,
        std::string("is a ") + formats::FileKindName(reader.container().kind()) + ", not a trace"};
    return out;
  }
  // A file that opened cleanly has a size unless it is not a regular file (an empty one fails
  // as kEmpty above). Pass 2 seeks back into it, which a pipe cannot do: say so before reading.
  if (!reader.error() && reader.container().file_size() == 0) {
    out.error = formats::FormatError{
        formats::FormatError::Kind::kIo, path, 0,
        "is not a regular file: the join reads a trace twice, so save a pipe to a file first"};
    return out;
  }
  Indexer indexer(&out, path);
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
    for (const auto& thread : chunk.threads()) {
      if (thread.stack_hi() > thread.stack_lo()) {
        out.thread_stacks.push_back({thread.stack_lo(), thread.stack_hi()});
      }
    }
    for (const auto& map : chunk.module_maps()) {
      for (const auto& module : map.modules()) out.modules.push_back(module);
    }
    for (const auto& stack : chunk.stacks()) out.stacks[stack.id()] = stack;
    // A damaged alloc batch ends the chunk's alloc batches; its sample batches still count (the
    // order in which the eager reader this replaced kept them).
    for (int i = 0; i < chunk.allocs_size(); ++i) {
      const auto& batch = chunk.allocs(i);
      if (!indexer.Add(formats::SummarizeAllocBatch(batch), uint64_t(batch.tid()) << 1,
                       static_cast<uint32_t>(i), false, batch.tid(), info)) {
        break;
      }
    }
    for (int i = 0; i < chunk.samples_size(); ++i) {
      const auto& batch = chunk.samples(i);
      if (!indexer.Add(formats::SummarizeSampleBatch(batch), (uint64_t(batch.tid()) << 1) | 1,
                       static_cast<uint32_t>(i), true, batch.tid(), info)) {
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
  return out;
}

TimeBins BinsOf(const TraceIndex& trace, uint32_t target, uint64_t* end_ns) {
  // Each batch is sorted: its first and last events bound the run.
  uint64_t first = UINT64_MAX, last = 0;
  for (const auto& batch : trace.batches) {
    first = std::min(first, batch.first_time_ns);
    last = std::max(last, batch.last_time_ns);
  }
  if (first == UINT64_MAX) first = last = trace.header.start_time_ns();
  if (trace.header.start_time_ns() != 0 && trace.header.start_time_ns() <= first) {
    first = trace.header.start_time_ns();
  }
  if (trace.has_footer && trace.footer.end_time_ns() > last) last = trace.footer.end_time_ns();
  if (end_ns) *end_ns = last;
  const uint64_t duration = last - first;
  target = std::max<uint32_t>(1, target);
  TimeBins bins;
  bins.start_ns = first;
  bins.bin_ns = std::max<uint64_t>(1, (duration + target) / target);
  bins.count = static_cast<uint32_t>(duration / bins.bin_ns + 1);
  return bins;
}

}  // namespace tierscope::analyzer
