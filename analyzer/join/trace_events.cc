#include "join/trace_events.h"

#include <algorithm>
#include <functional>
#include <unordered_map>

#include "tierscope/formats/alloc_columns.h"
#include "tierscope/formats/sample_columns.h"
#include "tierscope/formats/trace_io.h"

namespace tierscope::analyzer {
namespace {

formats::FormatError Damage(const std::string& path, uint64_t offset, std::string what) {
  return formats::FormatError{formats::FormatError::Kind::kCorrupt, path, offset, std::move(what)};
}

std::vector<JoinEvent>& NewBatch(TraceContents* out, std::unordered_map<uint64_t, uint32_t>* ids,
                                 uint64_t stream_key, int size) {
  auto [it, added] = ids->emplace(stream_key, out->streams);
  if (added) ++out->streams;
  out->stream_of_batch.push_back(it->second);
  out->batches.emplace_back().reserve(static_cast<size_t>(size));
  return out->batches.back();
}

}  // namespace

EventMerger::EventMerger(const TraceContents& trace) : trace_(trace), streams_(trace.streams) {
  for (size_t b = 0; b < trace.batches.size(); ++b) {
    if (!trace.batches[b].empty()) {
      streams_[trace.stream_of_batch[b]].batches.push_back(static_cast<uint32_t>(b));
    }
  }
  for (uint32_t s = 0; s < streams_.size(); ++s) Push(s);
}

void EventMerger::Push(uint32_t stream) {
  const Stream& st = streams_[stream];
  if (st.batch >= st.batches.size()) return;
  const JoinEvent& e = trace_.batches[st.batches[st.batch]][st.index];
  heap_.push_back({e.time_ns, e.kind == kSampleKind, stream});
  std::push_heap(heap_.begin(), heap_.end(), std::greater<Head>());
}

const JoinEvent* EventMerger::Next() {
  if (heap_.empty()) return nullptr;
  std::pop_heap(heap_.begin(), heap_.end(), std::greater<Head>());
  const uint32_t stream = heap_.back().stream;
  heap_.pop_back();
  Stream& st = streams_[stream];
  const auto& batch = trace_.batches[st.batches[st.batch]];
  const JoinEvent* e = &batch[st.index];
  if (++st.index == batch.size()) {
    st.index = 0;
    ++st.batch;
  }
  Push(stream);
  return e;
}

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
  std::unordered_map<uint64_t, uint32_t> stream_ids;  // tid << 1 | is_sample
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
      auto& events = NewBatch(&out, &stream_ids, uint64_t(batch.tid()) << 1, batch.kind_size());
      while (cursor.Next(&e)) {
        events.push_back(JoinEvent{e.time_ns, e.address, e.size, e.stack_id,
                                   static_cast<uint16_t>(e.kind), 0, 0});
      }
      out.event_count += events.size();
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
      auto& events =
          NewBatch(&out, &stream_ids, (uint64_t(batch.tid()) << 1) | 1, batch.access_size());
      while (cursor.Next(&s)) {
        events.push_back(JoinEvent{s.time_ns, s.address, s.weight, 0, kSampleKind,
                                   static_cast<uint8_t>(s.access),
                                   static_cast<uint8_t>(batch.source())});
      }
      out.event_count += events.size();
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
  return out;
}

}  // namespace tierscope::analyzer
