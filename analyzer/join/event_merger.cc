#include "join/event_merger.h"

#include <algorithm>
#include <functional>

#include "tierscope/formats/alloc_columns.h"
#include "tierscope/formats/batch_summary.h"

namespace tierscope::analyzer {
namespace {

// Enough reusable vectors for the streams in flight; beyond that memory goes back to the heap.
constexpr size_t kMaxSpare = 64;

}  // namespace

EventMerger::EventMerger(const TraceIndex& index, const std::string& path)
    : index_(index),
      reader_(path),
      streams_(index.streams),
      chunk_read_(index.chunks.size()),
      decoded_(index.batches.size()) {
  for (size_t b = 0; b < index.batches.size(); ++b) {
    Stream& st = streams_[index.batches[b].stream];
    st.batches.push_back(static_cast<uint32_t>(b));
    st.sample = index.batches[b].sample;
  }
  Head head;
  for (uint32_t s = 0; s < streams_.size(); ++s) {
    if (HeadOf(s, &head)) Push(head);
  }
}

bool EventMerger::HeadOf(uint32_t stream, Head* head) const {
  const Stream& st = streams_[stream];
  if (st.next) {
    const Rank rank = st.sample ? kSample
                      : formats::KindIsRelease(static_cast<trace::EventKind>(st.next->kind))
                          ? kRelease
                          : kAllocation;
    *head = Head::Of(st.next->time_ns, rank, stream);
    return true;
  }
  if (st.batch >= st.batches.size()) return false;
  // Not decoded yet: the index knows the time of its first event, not its kind.
  *head = Head::Of(index_.batches[st.batches[st.batch]].first_time_ns,
                   st.sample ? kSample : kRelease, stream);
  return true;
}

void EventMerger::Push(const Head& head) {
  heap_.push_back(head);
  std::push_heap(heap_.begin(), heap_.end(), std::greater<Head>());
}

void EventMerger::Release(uint32_t batch) {
  std::vector<JoinEvent>& events = decoded_[batch];
  held_ -= events.size();
  if (spare_.size() < kMaxSpare) {
    events.clear();
    spare_.push_back(std::move(events));
  }
  events = std::vector<JoinEvent>();
}

void EventMerger::ReadChunk(uint32_t c) {
  chunk_read_[c] = true;
  ++stats_.chunk_reads;
  if (error_) return;
  if (!reader_.Seek(index_.chunks[c].offset) || !reader_.Next(&chunk_)) {
    error_ = reader_.error();
    if (error_ && error_->kind == formats::FormatError::Kind::kIo) {
      error_->what += " (the join reads a trace twice: it must be a regular file, not a pipe)";
    }
    if (!error_) {
      error_ =
          formats::FormatError{formats::FormatError::Kind::kTruncated, reader_.container().path(),
                               index_.chunks[c].offset, "chunk is gone on the second read"};
    }
    return;
  }
  const uint32_t end =
      c + 1 < index_.chunks.size() ? index_.chunks[c + 1].first_batch : index_.batches.size();
  for (uint32_t b = index_.chunks[c].first_batch; b < end; ++b) {
    const BatchRef& ref = index_.batches[b];
    std::vector<JoinEvent> events;
    if (!spare_.empty()) {
      events = std::move(spare_.back());
      spare_.pop_back();
    }
    events.reserve(static_cast<size_t>(ref.events));
    if (ref.sample) {
      if (ref.index >= static_cast<uint32_t>(chunk_.samples_size())) continue;
      const auto& batch = chunk_.samples(static_cast<int>(ref.index));
      const uint8_t source = static_cast<uint8_t>(batch.source());
      formats::DecodeSampleBatch(batch, ref.events, [&](const formats::AccessSample& s) {
        events.push_back(JoinEvent{s.time_ns, s.address, s.weight, s.period_shift, kSampleKind,
                                   static_cast<uint8_t>(s.access), source, s.ip});
      });
    } else {
      if (ref.index >= static_cast<uint32_t>(chunk_.allocs_size())) continue;
      formats::DecodeAllocBatch(
          chunk_.allocs(static_cast<int>(ref.index)), ref.events,
          [&](const formats::AllocEvent& e) {
            events.push_back(JoinEvent{e.time_ns, e.address, e.size, e.stack_id,
                                       static_cast<uint16_t>(e.kind), 0, 0});
          });
    }
    held_ += events.size();
    decoded_[b] = std::move(events);
  }
  stats_.peak_decoded_events = std::max(stats_.peak_decoded_events, held_);
}

const JoinEvent* EventMerger::Next() {
  if (done_batch_ >= 0) {
    Release(static_cast<uint32_t>(done_batch_));
    done_batch_ = -1;
  }
  for (;;) {
    // The smallest head: the current stream's unless the heap holds a smaller one.
    if (!has_current_ || (!heap_.empty() && current_ > heap_.front())) {
      if (has_current_) Push(current_);
      if (heap_.empty()) return nullptr;
      std::pop_heap(heap_.begin(), heap_.end(), std::greater<Head>());
      current_ = heap_.back();
      heap_.pop_back();
      has_current_ = true;
    }
    const uint32_t stream = current_.stream();
    Stream& st = streams_[stream];
    if (!st.next) {
      const uint32_t b = st.batches[st.batch];
      if (!chunk_read_[index_.batches[b].chunk]) ReadChunk(index_.batches[b].chunk);
      const auto& events = decoded_[b];
      if (events.size() != static_cast<size_t>(index_.batches[b].events)) {
        // The file changed since pass 1: a pass over what the index promised would misorder
        // events.
        Release(b);
        ++st.batch;
        has_current_ = HeadOf(stream, &current_);
        continue;
      }
      // Stable until the batch is released: other batches' vectors are moved, never this one.
      st.next = events.data();
      st.end = events.data() + events.size();
      // The head was a lower bound (rank unknown before decoding): if another head now comes
      // first, it goes first.
      Head decoded;
      HeadOf(stream, &decoded);
      if (decoded.key != current_.key) {
        current_ = decoded;
        continue;
      }
    }
    const JoinEvent* e = st.next++;
    if (st.next == st.end) {
      done_batch_ = st.batches[st.batch];
      ++st.batch;
      st.next = st.end = nullptr;
    }
    has_current_ = HeadOf(stream, &current_);
    stream_ = stream;
    return e;
  }
}

}  // namespace tierscope::analyzer
