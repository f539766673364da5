// Combining profiles of many runs, and comparing two.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "profile.pb.h"

namespace tierscope::analyzer {

// Adds `other` into `into`, matching sites by their full match key (build-id or module path +
// offsets). Counts and byte-seconds add up; peaks and live histograms take the maximum (a plan
// is per process); histograms are re-binned to the wider bin. Associative, so a fleet's profiles
// can be merged in any grouping. Any plan is dropped: plan the merged profile again. Sites of
// `other` move into `into`: pass an rvalue when it is not needed after.
void MergeInto(profile::ProfileChunk* into, profile::ProfileChunk other);

struct DiffRow {
  std::string site;    // innermost frame name
  std::string change;  // "hotter", "colder", "bigger", "smaller", "new", "gone", "same"
  double temperature_a = 0, temperature_b = 0;
  int64_t peak_a = 0, peak_b = 0;
  int64_t samples_a = 0, samples_b = 0;
};

// Sites of A and B matched by key; `ratio`: how much temperature or peak must change to count.
std::vector<DiffRow> DiffProfiles(const profile::ProfileChunk& a, const profile::ProfileChunk& b,
                                  double ratio = 1.25);
void WriteDiff(const std::vector<DiffRow>& rows, std::ostream& out);

}  // namespace tierscope::analyzer
