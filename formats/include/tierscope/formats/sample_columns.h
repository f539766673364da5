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
};

class SampleBatchBuilder {
 public:
  // Appends to `batch`, which must stay alive; call Finish() before serializing.
  SampleBatchBuilder(trace::SampleBatch* batch, bool with_data_source);
  void Add(const AccessSample& sample);
  // Drops the weight column when every weight is 1.
  void Finish();
  int size() const { return batch_->access_size(); }

 private:
  trace::SampleBatch* batch_;
  bool with_data_source_;
  bool all_weights_one_ = true;
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
