// Sites x time, pre-binned once from Site.histogram so painting never walks the profile.
#pragma once

#include <cstdint>
#include <vector>

#include "data/profile_source.h"

namespace tierscope::gui {

struct HeatMapData {
  std::vector<int> rows;  // site indices, hottest (temperature) first
  int bins = 0;           // columns: the longest histogram
  uint64_t bin_ns = 0;
  std::vector<uint32_t> cells;  // rows.size() * bins, row-major
  uint32_t max_cell = 0;
  int sites_with_samples = 0;  // before the cut to max_rows

  uint32_t At(int row, int bin) const { return cells[size_t(row) * bins + bin]; }
};

// Keeps the `max_rows` hottest sites that have a histogram.
HeatMapData BuildHeatMap(const ProfileData& data, int max_rows);

}  // namespace tierscope::gui
