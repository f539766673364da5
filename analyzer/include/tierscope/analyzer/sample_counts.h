// A site's sample count and what it can and cannot tell: counts of a sampler are Poisson, so a
// site with 1 sample may be as hot as 5 or as cold as 0.05. Reports rank by the lower bound (a
// few-sample site does not top them by chance); the planner calls a site cold only when even its
// upper bound is cold (a site never sampled in one run is not proof it is cold in the next).
#pragma once

#include <cmath>
#include <cstdint>

#include "profile.pb.h"

namespace tierscope::analyzer {

inline uint64_t SiteSamples(const profile::Site& s) {
  return s.load_samples() + s.store_samples() + s.other_samples();
}

// One-sided 95% bounds of a Poisson mean after observing k (Wilson-Hilferty).
inline double PoissonLow(double k) {
  if (k <= 0) return 0;
  constexpr double z = 1.6449;
  const double c = 1 - 1 / (9 * k) - z / (3 * std::sqrt(k));
  return c > 0 ? k * c * c * c : 0;
}
inline double PoissonHigh(double k) {
  const double n = (k > 0 ? k : 0) + 1;
  constexpr double z = 1.6449;
  const double c = 1 - 1 / (9 * n) + z / (3 * std::sqrt(n));
  return n * c * c * c;
}

}  // namespace tierscope::analyzer
