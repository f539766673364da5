#include "join/event_merger.h"

#include <algorithm>
#include <functional>

#include "tierscope/formats/batch_summary.h"

namespace tierscope::analyzer {

EventMerger::EventMerger(const TraceIndex& index, const std::string& path, ReadAhead read_ahead,
                         const std::atomic<bool>* helper_busy)
    : index_(index),
      source_(index, path, read_ahead, PredictChunkOrder(index), helper_busy),
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
  *head = FirstHead(index_.batches[st.batches[st.batch]]);
  return true;
}

std::vector<uint32_t> EventMerger::PredictChunkOrder(const TraceIndex& index) {
  std::vector<Head> first(index.chunks.size(), Head{~static_cast<unsigned __int128>(0)});
  for (const BatchRef& b : index.batches) {
    const Head head = FirstHead(b);
    if (first[b.chunk] > head) first[b.chunk] = head;
  }
  std::vector<uint32_t> order(index.chunks.size());
  for (uint32_t c = 0; c < order.size(); ++c) order[c] = c;
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return first[b] > first[a]; });
  return order;
}

void EventMerger::Push(const Head& head) {
  heap_.push_back(head);
  std::push_heap(heap_.begin(), heap_.end(), std::greater<Head>());
}

void EventMerger::Release(uint32_t batch) {
  std::vector<JoinEvent>& events = decoded_[batch];
  held_ -= events.size();
  source_.GiveBack(std::move(events));
  events = std::vector<JoinEvent>();
}

void EventMerger::ReadChunk(uint32_t c) {
  chunk_read_[c] = true;
  ++stats_.chunk_reads;
  DecodedChunk chunk = source_.Take(c);
  stats_.chunks_read_ahead = source_.taken_ahead();
  // After a chunk that could not be read, none is: its batches and every later one are skipped,
  // as the index promised events that pass 2 does not find.
  if (!error_ && chunk.error) error_ = std::move(chunk.error);
  if (error_) {
    for (auto& events : chunk.events) source_.GiveBack(std::move(events));
    return;
  }
  const uint32_t first = index_.chunks[c].first_batch;
  for (size_t i = 0; i < chunk.events.size(); ++i) {
    held_ += chunk.events[i].size();
    decoded_[first + i] = std::move(chunk.events[i]);
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
