#include "tierscope/formats/alloc_columns.h"

#include <algorithm>
#include <new>

namespace tierscope::formats {
namespace {

uint32_t SlotOf(uint64_t address, uint32_t slots) {
  // Fibonacci hashing; the low 4 bits of heap addresses are nearly always zero.
  return static_cast<uint32_t>(((address >> 4) * 0x9E3779B97F4A7C15ull) >> 32) & (slots - 1);
}

}  // namespace

AllocBatchBuilder::AllocBatchBuilder(trace::AllocBatch* batch, uint32_t time_unit_ns)
    : batch_(batch),
      time_unit_(time_unit_ns == 0 ? 1 : time_unit_ns),
      allocation_at_(NewTable()),
      release_at_(NewTable()) {}

AllocBatchBuilder::Table AllocBatchBuilder::NewTable() {
  Table table(static_cast<Slot*>(std::calloc(kSlots, sizeof(Slot))));
  if (!table) throw std::bad_alloc();
  return table;
}

void AllocBatchBuilder::Reset(trace::AllocBatch* batch) {
  batch_ = batch;
  last_time_ = 0;
  last_address_ = 0;
  allocations_ = releases_ = 0;
  if (++generation_ == 0) {  // wrapped: old tags could match again
    std::fill_n(allocation_at_.get(), kSlots, Slot{0, 0, 0});
    std::fill_n(release_at_.get(), kSlots, Slot{0, 0, 0});
    generation_ = 1;
  }
}

uint32_t AllocBatchBuilder::LookUp(const Table& table, uint64_t address, uint32_t count) const {
  const Slot& s = table[SlotOf(address, kSlots)];
  if (s.generation != generation_ || s.address != address) return 0;
  const uint32_t back = count - s.position;
  return back <= kAddressRefWindow ? back : 0;
}

void AllocBatchBuilder::Remember(Table* table, uint64_t address, uint32_t position) {
  (*table)[SlotOf(address, kSlots)] = Slot{address, position, generation_};
}

void AllocBatchBuilder::Add(const AllocEvent& e) {
  const uint64_t units = e.time_ns / time_unit_;
  if (batch_->kind_size() == 0) {
    batch_->set_first_time_ns(units * time_unit_);
    if (time_unit_ != 1) batch_->set_time_unit_ns(time_unit_);
    last_time_ = units;
  }
  // Clamp: a clock read on another core can be a few ns behind; times must not decrease.
  const uint64_t t = std::max(units, last_time_);
  batch_->add_time_delta_ns(t - last_time_);
  last_time_ = t;
  batch_->add_kind(e.kind);

  const bool allocation = KindIsAllocation(e.kind), release = KindIsRelease(e.kind);
  uint32_t ref = 0;
  if (allocation) ref = LookUp(release_at_, e.address, releases_);
  if (release) ref = LookUp(allocation_at_, e.address, allocations_);
  batch_->add_address_ref(ref);
  if (ref == 0) batch_->add_address_delta(static_cast<int64_t>(e.address - last_address_));
  last_address_ = e.address;
  if (allocation) Remember(&allocation_at_, e.address, allocations_++);
  if (release) Remember(&release_at_, e.address, releases_++);

  if (KindHasSize(e.kind)) batch_->add_size(e.size);
  if (allocation) batch_->add_stack_id(e.stack_id);
}

bool AllocBatchCursor::Fail(const char* why) {
  error_ = why;
  index_ = batch_.kind_size();  // stays at the end
  return false;
}

bool AllocBatchCursor::NextAddress(trace::EventKind kind, uint64_t* address) {
  const bool allocation = KindIsAllocation(kind), release = KindIsRelease(kind);
  if (batch_.address_ref_size() == 0) {  // every address is a delta
    address_ += static_cast<uint64_t>(batch_.address_delta(index_));
    *address = address_;
    return true;
  }
  const uint32_t back = batch_.address_ref(index_);
  if (back == 0) {
    if (delta_index_ >= batch_.address_delta_size()) {
      return Fail("alloc batch address column is short");
    }
    address_ += static_cast<uint64_t>(batch_.address_delta(delta_index_++));
  } else {
    if (!allocation && !release) return Fail("alloc batch address reference on an unknown event");
    const uint32_t count = allocation ? releases_ : allocations_;
    if (back > count || back > kAddressRefWindow) {
      return Fail("alloc batch address reference points before its batch");
    }
    address_ = (allocation ? released_ : allocated_)[(count - back) & ring_mask_];
  }
  if (allocation) allocated_[allocations_++ & ring_mask_] = address_;
  if (release) released_[releases_++ & ring_mask_] = address_;
  *address = address_;
  return true;
}

bool AllocBatchCursor::Next(AllocEvent* e) {
  const int n = batch_.kind_size();
  if (index_ >= n) return false;
  if (index_ == 0) {
    time_ = batch_.first_time_ns();
    time_unit_ = batch_.time_unit_ns() == 0 ? 1 : batch_.time_unit_ns();
    const bool refs = batch_.address_ref_size() > 0;
    if (batch_.time_delta_ns_size() != n ||
        (refs ? batch_.address_ref_size() : batch_.address_delta_size()) != n) {
      return Fail("alloc batch columns have different lengths");
    }
    if (refs) {
      // Back-references reach at most min(n, window) events back.
      uint32_t ring = 1;
      while (ring < std::min<uint32_t>(n, kAddressRefWindow)) ring <<= 1;
      allocated_.assign(ring, 0);
      released_.assign(ring, 0);
      ring_mask_ = ring - 1;
    }
  }
  e->kind = static_cast<trace::EventKind>(batch_.kind(index_));
  time_ += batch_.time_delta_ns(index_) * time_unit_;
  e->time_ns = time_;
  if (!NextAddress(e->kind, &e->address)) return false;
  e->size = 0;
  e->stack_id = 0;
  if (KindHasSize(e->kind)) {
    if (size_index_ >= batch_.size_size()) return Fail("alloc batch size column is short");
    e->size = batch_.size(size_index_++);
  }
  if (KindIsAllocation(e->kind)) {
    if (stack_index_ >= batch_.stack_id_size()) return Fail("alloc batch stack column is short");
    e->stack_id = batch_.stack_id(stack_index_++);
  }
  ++index_;
  return true;
}

}  // namespace tierscope::formats
