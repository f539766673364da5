// Builds and reads the columnar, delta-encoded SampleBatch. The only code that knows its layout.
#pragma once

#include <cstdint>
#include <string>

#include "trace.pb.h"

namespace tierscope::formats {

struct AccessSample {
  uint64_t time_ns = 0;
  uint64_t ip = 0;
  uint64_t address = 0;
  trace::AccessKind access = trace::ACCESS_UNKNOWN;
  uint32_t weight = 1;
  uint64_t data_source = 0;
  uint8_t period_shift = 0;  // sampled at the header's period << period_shift (adaptive period)
};

// A recorded period shift, bounded: a damaged trace's 2^4000000 must not weigh a sample.
inline uint8_t ShiftOf(uint32_t recorded) {
  return static_cast<uint8_t>(recorded > 30 ? 30 : recorded);
}

class SampleBatchBuilder {
 public:
  // Appends to `batch`, which must stay alive; call Finish() before serializing.
  SampleBatchBuilder(trace::SampleBatch* batch, bool with_data_source);
  void Add(const AccessSample& sample);
  // Drops the weight column when every weight is 1, the period shift when every shift is 0.
  void Finish();
  int size() const { return batch_->access_size(); }

 private:
  trace::SampleBatch* batch_;
  bool with_data_source_;
  bool all_weights_one_ = true, all_shifts_zero_ = true;
  uint64_t last_time_ = 0, last_ip_ = 0, last_address_ = 0;
};

class SampleBatchCursor {
 public:
  explicit SampleBatchCursor(const trace::SampleBatch& batch) : batch_(batch) {}
  bool Next(AccessSample* sample);
  const std::string& error() const { return error_; }

 private:
  const trace::SampleBatch& batch_;
  int index_ = 0;
  uint64_t time_ = 0, ip_ = 0, address_ = 0;
  std::string error_;
};

}  // namespace tierscope::formats
