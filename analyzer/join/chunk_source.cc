#include "join/chunk_source.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>

#include "tierscope/formats/batch_summary.h"

namespace tierscope::analyzer {
namespace {

// Enough reusable vectors for the streams in flight; beyond that memory goes back to the heap.
constexpr size_t kMaxSpare = 64;

}  // namespace

ChunkSource::ChunkSource(const TraceIndex& index, const std::string& path, ReadAhead mode,
                         std::vector<uint32_t> order, const std::atomic<bool>* helper_busy)
    : index_(index),
      path_(path),
      helper_busy_(std::thread::hardware_concurrency() < 3 ? helper_busy : nullptr),
      state_(index.chunks.size(), State::kPending),
      ready_(index.chunks.size()),
      order_(std::move(order)) {
  // One chunk leaves nothing to read ahead of.
  if (mode == ReadAhead::kThread && index.chunks.size() > 1) {
    thread_ = std::thread([this] { RunAhead(); });
  }
}

ChunkSource::~ChunkSource() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::vector<JoinEvent> ChunkSource::Spare() {
  std::lock_guard lock(mu_);
  if (spare_.empty()) return {};
  std::vector<JoinEvent> v = std::move(spare_.back());
  spare_.pop_back();
  return v;
}

void ChunkSource::GiveBack(std::vector<JoinEvent> events) {
  events.clear();
  std::lock_guard lock(mu_);
  if (spare_.size() < kMaxSpare) spare_.push_back(std::move(events));
}

DecodedChunk ChunkSource::Decode(formats::TraceReader& reader, trace::TraceChunk& chunk,
                                 uint32_t c) {
  DecodedChunk out;
  if (!reader.Seek(index_.chunks[c].offset) || !reader.Next(&chunk)) {
    out.error = reader.error();
    if (out.error && out.error->kind == formats::FormatError::Kind::kIo) {
      out.error->what += " (the join reads a trace twice: it must be a regular file, not a pipe)";
    }
    if (!out.error) {
      out.error = formats::FormatError{formats::FormatError::Kind::kTruncated, path_,
                                       index_.chunks[c].offset, "chunk is gone on the second read"};
    }
    return out;
  }
  const uint32_t first = index_.chunks[c].first_batch;
  const uint32_t end =
      c + 1 < index_.chunks.size() ? index_.chunks[c + 1].first_batch : index_.batches.size();
  out.events.resize(end - first);
  for (uint32_t b = first; b < end; ++b) {
    const BatchRef& ref = index_.batches[b];
    std::vector<JoinEvent> events = Spare();
    events.reserve(static_cast<size_t>(ref.events));
    if (ref.sample) {
      if (ref.index >= static_cast<uint32_t>(chunk.samples_size())) continue;
      const auto& batch = chunk.samples(static_cast<int>(ref.index));
      const uint8_t source = static_cast<uint8_t>(batch.source());
      formats::DecodeSampleBatch(batch, ref.events, [&](const formats::AccessSample& s) {
        events.push_back(JoinEvent{s.time_ns, s.address, s.weight, s.period_shift, kSampleKind,
                                   static_cast<uint8_t>(s.access), source, s.ip});
      });
    } else {
      if (ref.index >= static_cast<uint32_t>(chunk.allocs_size())) continue;
      formats::DecodeAllocBatch(
          chunk.allocs(static_cast<int>(ref.index)), ref.events, [&](const formats::AllocEvent& e) {
            events.push_back(JoinEvent{e.time_ns, e.address, e.size, e.stack_id,
                                       static_cast<uint16_t>(e.kind), 0, 0});
          });
    }
    out.events[b - first] = std::move(events);
  }
  return out;
}

void ChunkSource::RunAhead() {
  try {
    formats::TraceReader reader(path_);
    trace::TraceChunk chunk;
    for (uint32_t c : order_) {
      {
        std::unique_lock lock(mu_);
        // The helper's end is not signalled: polled while it runs (symbolization, seconds).
        while (!changed_.wait_for(lock, std::chrono::milliseconds(2), [&] {
          return stop_ || (ready_count_ < kReadAhead &&
                           !(helper_busy_ && helper_busy_->load(std::memory_order_relaxed)));
        })) {
        }
        if (stop_) return;
        if (state_[c] != State::kPending) continue;  // the merge took it first
        state_[c] = State::kDecoding;
      }
      DecodedChunk decoded = Decode(reader, chunk, c);
      {
        std::lock_guard lock(mu_);
        ready_[c] = std::move(decoded);
        state_[c] = State::kReady;
        ++ready_count_;
      }
      changed_.notify_all();
    }
  } catch (const std::exception& e) {
    // Out of memory in the thread: the merge decodes what is left itself. A chunk caught in the
    // middle is given back as pending.
    std::lock_guard lock(mu_);
    for (State& s : state_) {
      if (s == State::kDecoding) s = State::kPending;
    }
    stop_ = true;
    std::fprintf(stderr, "tierscope: reading ahead stopped (%s); the join reads on its own\n",
                 e.what());
    changed_.notify_all();
  }
}

DecodedChunk ChunkSource::Take(uint32_t c) {
  {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return state_[c] != State::kDecoding; });
    if (state_[c] == State::kReady) {
      state_[c] = State::kTaken;
      --ready_count_;
      ++taken_ahead_;
      DecodedChunk out = std::move(ready_[c]);
      lock.unlock();
      changed_.notify_all();
      return out;
    }
    state_[c] = State::kTaken;  // pending (or, by a caller's mistake, taken): decoded here
  }
  if (!reader_) reader_.emplace(path_);
  return Decode(*reader_, chunk_, c);
}

}  // namespace tierscope::analyzer
