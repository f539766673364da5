#include "tierscope/formats/sample_columns.h"

namespace tierscope::formats {

SampleBatchBuilder::SampleBatchBuilder(trace::SampleBatch* batch, bool with_data_source)
    : batch_(batch), with_data_source_(with_data_source) {}

void SampleBatchBuilder::Add(const AccessSample& s) {
  if (batch_->access_size() == 0) {
    batch_->set_first_time_ns(s.time_ns);
    last_time_ = s.time_ns;
  }
  const uint64_t t = s.time_ns < last_time_ ? last_time_ : s.time_ns;
  batch_->add_time_delta_ns(t - last_time_);
  last_time_ = t;
  batch_->add_ip_delta(static_cast<int64_t>(s.ip - last_ip_));
  last_ip_ = s.ip;
  batch_->add_address_delta(static_cast<int64_t>(s.address - last_address_));
  last_address_ = s.address;
  batch_->add_access(s.access);
  batch_->add_weight(s.weight);
  all_weights_one_ = all_weights_one_ && s.weight == 1;
  batch_->add_period_shift(s.period_shift);
  all_shifts_zero_ = all_shifts_zero_ && s.period_shift == 0;
  if (with_data_source_) batch_->add_data_source(s.data_source);
}

void SampleBatchBuilder::Finish() {
  if (all_weights_one_) batch_->clear_weight();
  if (all_shifts_zero_) batch_->clear_period_shift();
}

bool SampleBatchCursor::Next(AccessSample* s) {
  const int n = batch_.access_size();
  if (index_ >= n) return false;
  if (index_ == 0) {
    time_ = batch_.first_time_ns();
    if (batch_.time_delta_ns_size() != n || batch_.ip_delta_size() != n ||
        batch_.address_delta_size() != n ||
        (batch_.weight_size() != 0 && batch_.weight_size() != n) ||
        (batch_.data_source_size() != 0 && batch_.data_source_size() != n) ||
        (batch_.period_shift_size() != 0 && batch_.period_shift_size() != n)) {
      error_ = "sample batch columns have different lengths";
      return false;
    }
  }
  time_ += batch_.time_delta_ns(index_);
  ip_ += static_cast<uint64_t>(batch_.ip_delta(index_));
  address_ += static_cast<uint64_t>(batch_.address_delta(index_));
  s->time_ns = time_;
  s->ip = ip_;
  s->address = address_;
  s->access = static_cast<trace::AccessKind>(batch_.access(index_));
  s->weight = batch_.weight_size() ? batch_.weight(index_) : 1;
  s->data_source = batch_.data_source_size() ? batch_.data_source(index_) : 0;
  s->period_shift = batch_.period_shift_size() ? ShiftOf(batch_.period_shift(index_)) : 0;
  ++index_;
  return true;
}

}  // namespace tierscope::formats
