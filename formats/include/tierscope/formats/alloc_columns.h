// Builds and reads the columnar, delta-encoded AllocBatch. The only code that knows its layout.
#pragma once

#include <cstdint>
#include <string>

#include "trace.pb.h"

namespace tierscope::formats {

struct AllocEvent {
  uint64_t time_ns = 0;
  trace::EventKind kind = trace::EVENT_UNKNOWN;
  uint64_t address = 0;
  uint64_t size = 0;      // for kinds where KindHasSize()
  uint32_t stack_id = 0;  // for kinds where KindIsAllocation()
};

constexpr bool KindIsAllocation(trace::EventKind kind) {
  return kind >= 1 && kind < 32;
}
constexpr bool KindIsRelease(trace::EventKind kind) {
  return kind >= 32 && kind <= 37;
}
constexpr bool KindHasSize(trace::EventKind kind) {
  return KindIsAllocation(kind) || kind == trace::MUNMAP || kind == trace::MREMAP_UNMAP;
}

class AllocBatchBuilder {
 public:
  // Appends to `batch`, which must stay alive; events must come in non-decreasing time.
  explicit AllocBatchBuilder(trace::AllocBatch* batch);
  void Add(const AllocEvent& event);
  int size() const { return batch_->kind_size(); }

 private:
  trace::AllocBatch* batch_;
  uint64_t last_time_ = 0;
  uint64_t last_address_ = 0;
};

class AllocBatchCursor {
 public:
  explicit AllocBatchCursor(const trace::AllocBatch& batch) : batch_(batch) {}
  // False at the end, or when the columns disagree (then error() is non-empty).
  bool Next(AllocEvent* event);
  const std::string& error() const { return error_; }

 private:
  const trace::AllocBatch& batch_;
  int index_ = 0, size_index_ = 0, stack_index_ = 0;
  uint64_t time_ = 0, address_ = 0;
  std::string error_;
};

}  // namespace tierscope::formats
