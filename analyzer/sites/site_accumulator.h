// Running statistics of one allocation site while the trace is replayed in time order.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "profile.pb.h"

namespace tierscope::analyzer {

struct TimeBins {
  uint64_t start_ns = 0;
  uint64_t bin_ns = 1;
  uint32_t count = 1;
  uint32_t Of(uint64_t time_ns) const {
    if (time_ns <= start_ns) return 0;
    const uint64_t b = (time_ns - start_ns) / bin_ns;
    return b >= count ? count - 1 : static_cast<uint32_t>(b);
  }
};

class SiteAccumulator {
 public:
  SiteAccumulator(std::vector<uint64_t> frames, const TimeBins& bins);

  // `scale`: how many allocations this recorded one stands for (allocation sampling).
  void OnAlloc(uint64_t time_ns, uint64_t size, double scale);
  // A block (or a piece of a mapping) stops being live. `whole` when the allocation is gone.
  void OnRelease(uint64_t time_ns, uint64_t bytes, double scale, uint64_t alloc_time_ns,
                 bool whole);
  // `scale`: as OnAlloc's, of the block the sample hit. The site's sample counts, histogram and
  // latency are scaled by it like its allocations and bytes, so that a sampled site's samples per
  // byte (what the planner ranks by) are those of the whole site, not of its sampled part.
  void OnSample(uint64_t time_ns, uint8_t access, uint64_t weight, double scale);
  // Closes the books at the end of the run; `accesses_per_sample` scales temperature.
  void Finish(uint64_t end_ns, double accesses_per_sample, profile::Site* out);

  const std::vector<uint64_t>& frames() const { return frames_; }

 private:
  void ChangeLive(uint64_t time_ns, double delta);

  std::vector<uint64_t> frames_;
  const TimeBins& bins_;
  double allocations_ = 0, bytes_ = 0;
  double live_ = 0, peak_ = 0;
  uint64_t peak_time_ = 0;
  uint64_t frees_ = 0;
  std::array<uint64_t, 64> lifetimes_{};
  double loads_ = 0, stores_ = 0, others_ = 0;  // samples times the scale of the block they hit
  double latency_ = 0;
  double byte_ns_ = 0;
  uint64_t last_change_ns_ = 0;
  std::vector<double> histogram_;  // samples per time bin; empty until the first sample
  // Live bytes at the end of each bin: a protobuf field already, handed to the profile's site by
  // Finish() without a copy (13.9k sites x 200 bins of python3's trace: 22 MB once, not twice).
  google::protobuf::RepeatedField<uint64_t> live_histogram_;
  uint32_t live_bins_done_ = 0;  // bins before this one have their end-of-bin value
  // The bin of the last change and where it ends: changes come in time order and most fall in
  // the bin of the one before, which then needs no division.
  uint32_t bin_ = 0;
  uint64_t bin_end_ns_ = 0;
  uint64_t first_alloc_ns_ = UINT64_MAX, last_free_ns_ = 0;
};

}  // namespace tierscope::analyzer
