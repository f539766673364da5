#include "sites/site_accumulator.h"

#include <bit>
#include <cmath>

#include "trace.pb.h"

namespace tierscope::analyzer {

SiteAccumulator::SiteAccumulator(std::vector<uint64_t> frames, const TimeBins& bins)
    : frames_(std::move(frames)), bins_(bins) {
  live_histogram_.Resize(static_cast<int>(bins.count), 0);
}

void SiteAccumulator::ChangeLive(uint64_t time_ns, double delta) {
  if (time_ns > last_change_ns_) {
    byte_ns_ += live_ * double(time_ns - last_change_ns_);
    last_change_ns_ = time_ns;
  }
  // Bins that ended before this change held the old value at their end.
  if (time_ns >= bin_end_ns_) {
    bin_ = bins_.Of(time_ns);
    bin_end_ns_ = bin_ + 1 < bins_.count ? bins_.start_ns + (bin_ + 1) * bins_.bin_ns : UINT64_MAX;
  }
  const uint32_t bin = bin_;
  if (live_bins_done_ < bin) {  // rare: most changes fall in the bin of the previous one
    const uint64_t before = static_cast<uint64_t>(std::llround(live_));
    for (; live_bins_done_ < bin; ++live_bins_done_) live_histogram_[live_bins_done_] = before;
  }
  live_ += delta;
  if (live_ < 0.5) live_ = 0;  // rounding of scaled sizes must not leave dust
  if (live_ > peak_) {
    peak_ = live_;
    peak_time_ = time_ns;
  }
}

void SiteAccumulator::OnAlloc(uint64_t time_ns, uint64_t size, double scale) {
  if (first_alloc_ns_ == UINT64_MAX) {
    first_alloc_ns_ = time_ns;
    last_change_ns_ = time_ns;
  }
  allocations_ += scale;
  bytes_ += double(size) * scale;
  ChangeLive(time_ns, double(size) * scale);
}

void SiteAccumulator::OnRelease(uint64_t time_ns, uint64_t bytes, double scale,
                                uint64_t alloc_time_ns, bool whole) {
  ChangeLive(time_ns, -double(bytes) * scale);
  last_free_ns_ = time_ns;
  if (!whole) return;
  // Without allocation sampling every scale is 1: skip the libm call on each free.
  const uint64_t count = scale == 1 ? 1 : static_cast<uint64_t>(std::llround(scale));
  frees_ += count;
  const uint64_t lifetime = time_ns - alloc_time_ns;
  const int bucket = lifetime == 0 ? 0 : 63 - std::countl_zero(lifetime);
  lifetimes_[bucket] += count;
}

void SiteAccumulator::OnSample(uint64_t time_ns, uint8_t access, uint64_t weight, double scale) {
  switch (access) {
    case trace::ACCESS_LOAD:
      loads_ += scale;
      break;
    case trace::ACCESS_STORE:
      stores_ += scale;
      break;
    default:
      others_ += scale;
      break;
  }
  latency_ += double(weight) * scale;
  if (histogram_.empty()) histogram_.assign(bins_.count, 0.0);  // most sites never get a sample
  histogram_[bins_.Of(time_ns)] += scale;
}

void SiteAccumulator::Finish(uint64_t end_ns, double accesses_per_sample, profile::Site* out) {
  ChangeLive(end_ns, 0);
  const uint64_t last = static_cast<uint64_t>(std::llround(live_));
  for (; live_bins_done_ < bins_.count; ++live_bins_done_) live_histogram_[live_bins_done_] = last;
  out->set_allocations(static_cast<uint64_t>(std::llround(allocations_)));
  out->set_bytes(static_cast<uint64_t>(std::llround(bytes_)));
  out->set_peak_live_bytes(static_cast<uint64_t>(std::llround(peak_)));
  out->set_peak_time_ns(peak_time_ > bins_.start_ns ? peak_time_ - bins_.start_ns : 0);
  out->set_frees(frees_);
  int top = 63;
  while (top >= 0 && lifetimes_[top] == 0) --top;
  for (int i = 0; i <= top; ++i) out->add_lifetime_log2_ns(lifetimes_[i]);
  auto count = [](double n) { return static_cast<uint64_t>(std::llround(n)); };
  out->set_load_samples(count(loads_));
  out->set_store_samples(count(stores_));
  out->set_other_samples(count(others_));
  out->set_latency_weight(latency_);
  out->set_live_byte_seconds(byte_ns_ * 1e-9);
  const double samples = loads_ + stores_ + others_;
  out->set_temperature(byte_ns_ > 0 ? samples * accesses_per_sample / (byte_ns_ * 1e-9) : 0);
  // Rounded as a running sum: the bins add up to the site's samples, not to a sum of roundings.
  // A site no sample hit has no histogram (most sites: 200 zeros each were 11 MB of python3's).
  double sum = 0;
  uint64_t given = 0;
  out->mutable_histogram()->Reserve(static_cast<int>(histogram_.size()));
  for (double h : histogram_) {
    sum += h;
    const uint64_t upto = count(sum);
    out->add_histogram(static_cast<uint32_t>(upto - given));
    given = upto;
  }
  out->mutable_live_histogram()->Swap(&live_histogram_);  // the accumulator is done with it
  out->set_first_alloc_ns(first_alloc_ns_ == UINT64_MAX || first_alloc_ns_ < bins_.start_ns
                              ? 0
                              : first_alloc_ns_ - bins_.start_ns);
  out->set_last_free_ns(last_free_ns_ > bins_.start_ns ? last_free_ns_ - bins_.start_ns : 0);
}

}  // namespace tierscope::analyzer
