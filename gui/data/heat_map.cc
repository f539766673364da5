#include "data/heat_map.h"

#include <algorithm>

namespace tierscope::gui {

HeatMapData BuildHeatMap(const ProfileData& data, int max_rows) {
  HeatMapData map;
  map.bin_ns = data.profile.metadata().bin_ns();
  const auto& sites = data.profile.sites();
  for (int i = 0; i < sites.size(); ++i) {
    if (sites[i].histogram().empty()) continue;
    map.rows.push_back(i);
    map.bins = std::max(map.bins, sites[i].histogram_size());
  }
  map.sites_with_samples = int(map.rows.size());
  // Hottest on top; ties broken by samples so the order is stable and meaningful.
  auto hotter = [&](int a, int b) {
    if (sites[a].temperature() != sites[b].temperature())
      return sites[a].temperature() > sites[b].temperature();
    return a < b;
  };
  if (int(map.rows.size()) > max_rows) {
    std::partial_sort(map.rows.begin(), map.rows.begin() + max_rows, map.rows.end(), hotter);
    map.rows.resize(max_rows);
  } else {
    std::sort(map.rows.begin(), map.rows.end(), hotter);
  }
  map.cells.assign(map.rows.size() * size_t(map.bins), 0);
  for (size_t r = 0; r < map.rows.size(); ++r) {
    const auto& histogram = sites[map.rows[r]].histogram();
    for (int b = 0; b < histogram.size(); ++b) {
      map.cells[r * map.bins + b] = histogram[b];
      map.max_cell = std::max(map.max_cell, histogram[b]);
    }
  }
  return map;
}

}  // namespace tierscope::gui
