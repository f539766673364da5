#include "tierscope/formats/alloc_columns.h"

namespace tierscope::formats {

AllocBatchBuilder::AllocBatchBuilder(trace::AllocBatch* batch) : batch_(batch) {
  last_time_ = batch_->first_time_ns();
}

void AllocBatchBuilder::Add(const AllocEvent& e) {
  if (batch_->kind_size() == 0) {
    batch_->set_first_time_ns(e.time_ns);
    last_time_ = e.time_ns;
  }
  // Clamp: a clock read on another core can be a few ns behind; times must not decrease.
  const uint64_t t = e.time_ns < last_time_ ? last_time_ : e.time_ns;
  batch_->add_time_delta_ns(t - last_time_);
  last_time_ = t;
  batch_->add_kind(e.kind);
  batch_->add_address_delta(static_cast<int64_t>(e.address - last_address_));
  last_address_ = e.address;
  if (KindHasSize(e.kind)) batch_->add_size(e.size);
  if (KindIsAllocation(e.kind)) batch_->add_stack_id(e.stack_id);
}

bool AllocBatchCursor::Next(AllocEvent* e) {
  if (index_ >= batch_.kind_size()) return false;
  if (index_ == 0) time_ = batch_.first_time_ns();
  if (batch_.time_delta_ns_size() != batch_.kind_size() ||
      batch_.address_delta_size() != batch_.kind_size()) {
    error_ = "alloc batch columns have different lengths";
    return false;
  }
  e->kind = static_cast<trace::EventKind>(batch_.kind(index_));
  time_ += batch_.time_delta_ns(index_);
  address_ += static_cast<uint64_t>(batch_.address_delta(index_));
  e->time_ns = time_;
  e->address = address_;
  e->size = 0;
  e->stack_id = 0;
  if (KindHasSize(e->kind)) {
    if (size_index_ >= batch_.size_size()) {
      error_ = "alloc batch size column is short";
      return false;
    }
    e->size = batch_.size(size_index_++);
  }
  if (KindIsAllocation(e->kind)) {
    if (stack_index_ >= batch_.stack_id_size()) {
      error_ = "alloc batch stack column is short";
      return false;
    }
    e->stack_id = batch_.stack_id(stack_index_++);
  }
  ++index_;
  return true;
}

}  // namespace tierscope::formats
