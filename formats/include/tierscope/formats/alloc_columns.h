// Builds and reads the columnar, delta-encoded AllocBatch. The only code that knows its layout.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

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

// How far back an address back-reference may point, per kind (allocations, releases). Bounds
// the reader's memory: two rings of this many addresses per open cursor.
constexpr uint32_t kAddressRefWindow = 8192;

class AllocBatchBuilder {
 public:
  // Appends to `batch`, which must stay alive; events must come in non-decreasing time. Times are
  // stored rounded down to `time_unit_ns` (1 keeps nanoseconds).
  explicit AllocBatchBuilder(trace::AllocBatch* batch, uint32_t time_unit_ns = 1);
  void Add(const AllocEvent& event);
  // Goes on with a new batch, keeping the address tables' memory (the recorder's writer builds
  // one batch after another with a single builder).
  void Reset(trace::AllocBatch* batch);
  int size() const { return batch_->kind_size(); }

 private:
  // Last position of an address among this batch's allocations or releases: a direct-mapped,
  // lossy cache (a miss only costs an explicit address), tagged with the batch's generation so
  // Reset() needs no clearing.
  struct Slot {
    uint64_t address;
    uint32_t position;
    uint32_t generation;
  };
  static constexpr uint32_t kSlots = 2 * kAddressRefWindow;
  // calloc'ed: a large calloc takes fresh zero pages and writes none of them, so a builder costs
  // only the slots it uses (filled, the two tables wrote 512 KB at every recorded process start).
  struct FreeSlots {
    void operator()(Slot* p) const { std::free(p); }
  };
  using Table = std::unique_ptr<Slot[], FreeSlots>;
  static Table NewTable();
  uint32_t LookUp(const Table& table, uint64_t address, uint32_t count) const;
  void Remember(Table* table, uint64_t address, uint32_t position);

  trace::AllocBatch* batch_;
  uint32_t time_unit_;
  uint64_t last_time_ = 0;
  uint64_t last_address_ = 0;
  uint32_t allocations_ = 0, releases_ = 0;
  uint32_t generation_ = 1;
  Table allocation_at_, release_at_;
};

class AllocBatchCursor {
 public:
  explicit AllocBatchCursor(const trace::AllocBatch& batch) : batch_(batch) {}
  // False at the end, or when the columns disagree (then error() is non-empty).
  bool Next(AllocEvent* event);
  const std::string& error() const { return error_; }

 private:
  bool Fail(const char* why);
  bool NextAddress(trace::EventKind kind, uint64_t* address);

  const trace::AllocBatch& batch_;
  int index_ = 0, size_index_ = 0, stack_index_ = 0, delta_index_ = 0;
  uint64_t time_ = 0, address_ = 0;
  uint64_t time_unit_ = 1;  // from the batch, read once
  // The latest addresses of allocations and of releases, for back-references; rings sized to
  // the batch (at most kAddressRefWindow), allocated only when the batch has references.
  std::vector<uint64_t> allocated_, released_;
  uint32_t allocations_ = 0, releases_ = 0, ring_mask_ = 0;
  std::string error_;
};

}  // namespace tierscope::formats
