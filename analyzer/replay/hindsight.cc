#include "replay/hindsight.h"

#include <algorithm>

#include "replay/fixed_group_lp.h"

namespace tierscope::analyzer {

SiteWindowBound::SiteWindowBound(const TimeBins& bins, uint32_t windows)
    : bins_(bins), windows_(std::max<uint32_t>(1, windows)), entries_(bins.count) {}

uint32_t SiteWindowBound::GroupOf(uint32_t stack_id, uint64_t time_ns) {
  const uint64_t window = uint64_t(bins_.Of(time_ns)) * windows_ / bins_.count;
  const auto [it, added] =
      group_of_.emplace((uint64_t(stack_id) << 16) | window, static_cast<uint32_t>(groups_.size()));
  if (added) {
    Group g;
    g.last_ns = time_ns;
    g.bin = bins_.Of(time_ns);
    groups_.push_back(g);
  }
  return it->second;
}

void SiteWindowBound::CloseBin(Group& g, double byte_ns) {
  if (g.samples_in_bin) entries_[g.bin].push_back({g.samples_in_bin, byte_ns});
  if (byte_ns > 0) g.occupancy.push_back({g.bin, g.bin + 1, byte_ns});
  g.samples_in_bin = 0;
}

void SiteWindowBound::Advance(Group& g, uint64_t time_ns) {
  if (time_ns < g.last_ns) time_ns = g.last_ns;
  const uint32_t bin = bins_.Of(time_ns);
  if (bin != g.bin) {
    // Live bytes were constant since last_ns: the integral at any moment in between is linear.
    const uint64_t bin_end = bins_.start_ns + uint64_t(g.bin + 1) * bins_.bin_ns;
    CloseBin(g, g.integral + double(g.live) * double(bin_end - g.last_ns) - g.integral_at_bin);
    // The bins in between held the same bytes throughout (and no sample).
    if (g.live > 0 && g.bin + 1 < bin) {
      g.occupancy.push_back({g.bin + 1, bin, double(g.live) * double(bins_.bin_ns)});
    }
    const uint64_t start = bins_.start_ns + uint64_t(bin) * bins_.bin_ns;
    g.integral_at_bin = g.integral + double(g.live) * double(start - g.last_ns);
    g.bin = bin;
  }
  g.integral += double(g.live) * double(time_ns - g.last_ns);
  g.last_ns = time_ns;
}

void SiteWindowBound::OnLive(uint32_t group, uint64_t time_ns, int64_t delta_bytes) {
  Group& g = groups_[group];
  Advance(g, time_ns);
  g.live = delta_bytes < 0 ? g.live - std::min<uint64_t>(g.live, uint64_t(-delta_bytes))
                           : g.live + uint64_t(delta_bytes);
}

void SiteWindowBound::OnSample(uint32_t group, uint64_t time_ns) {
  Group& g = groups_[group];
  Advance(g, time_ns);
  ++g.samples_in_bin;
  ++g.samples;
}

void SiteWindowBound::Finish(uint64_t end_ns) {
  if (finished_) return;
  finished_ = true;
  for (Group& g : groups_) {
    Advance(g, end_ns);
    const uint64_t bin_end = bins_.start_ns + uint64_t(g.bin + 1) * bins_.bin_ns;
    CloseBin(g, g.integral +
                    double(g.live) * double(bin_end > g.last_ns ? bin_end - g.last_ns : 0) -
                    g.integral_at_bin);
  }
}

double SiteWindowBound::Value(uint64_t capacity) {
  double value = 0;
  for (auto& entries : entries_) {
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      return double(a.samples) * b.byte_ns > double(b.samples) * a.byte_ns;
    });
    double budget = double(capacity) * double(bins_.bin_ns);
    for (const Entry& e : entries) {
      if (e.byte_ns <= budget) {
        value += e.samples;
        budget -= e.byte_ns;
      } else {
        value += double(e.samples) * budget / e.byte_ns;
        break;
      }
    }
  }
  return value;
}

size_t SiteWindowBound::sampled_groups() const {
  size_t n = 0;
  for (const Group& g : groups_) n += g.samples > 0;
  return n;
}

bool SiteWindowBound::FixedValue(uint64_t capacity, double* value, std::string* error) const {
  // One LP row per time bin, or per run of adjacent bins when there are more than kMaxRows: a
  // row's constraint is then the sum of its bins', which any placement meeting each bin's meets
  // too, so the figure stays a bound (a looser one) and the LP stays small whatever --bins is.
  constexpr uint32_t kMaxRows = 1000;
  const uint32_t rows = std::min(bins_.count, kMaxRows);
  auto row_of = [&](uint32_t bin) { return uint32_t(uint64_t(bin) * rows / bins_.count); };
  std::vector<double> row_budget(rows, 0);
  for (uint32_t b = 0; b < bins_.count; ++b) {
    row_budget[row_of(b)] += double(capacity) * double(bins_.bin_ns);
  }
  std::vector<FixedGroup> columns;
  std::vector<double> load(rows);
  double weightless = 0;  // samples of groups that take no room
  for (const Group& g : groups_) {
    if (g.samples == 0) continue;  // nothing to gain fast: the LP leaves it out
    std::fill(load.begin(), load.end(), 0.0);
    for (const Run& r : g.occupancy) {
      for (uint32_t b = r.from; b < r.to; ++b) load[row_of(b)] += r.byte_ns;
    }
    FixedGroup column{double(g.samples), {}};
    bool fits_nowhere = false;
    for (uint32_t row = 0; row < rows; ++row) {
      if (load[row] <= 0) continue;
      if (row_budget[row] <= 0) fits_nowhere = true;  // no fast tier at all
      column.load.emplace_back(row, row_budget[row] > 0 ? load[row] / row_budget[row] : 0);
    }
    if (fits_nowhere) continue;
    if (column.load.empty()) {
      weightless += column.value;
    } else {
      columns.push_back(std::move(column));
    }
  }
  const bool solved = MaxFixedGroupValue(columns, rows, value, error);
  *value += weightless;
  return solved;
}

PageBound::PageBound(const TimeBins& bins, uint64_t page_bytes, uint64_t capacity)
    : bins_(bins), page_bytes_(page_bytes), fast_pages_(capacity / page_bytes) {}

void PageBound::OnSample(uint64_t address, uint64_t time_ns) {
  const uint32_t bin = bins_.Of(time_ns);
  if (bin != bin_) {
    CloseBin();
    bin_ = bin;
  }
  ++samples_[address / page_bytes_];
}

void PageBound::CloseBin() {
  if (samples_.empty()) return;
  ++sampled_bins_;
  std::vector<std::pair<uint32_t, uint64_t>> pages;  // samples, page
  pages.reserve(samples_.size());
  for (const auto& [page, n] : samples_) pages.emplace_back(n, page);
  const size_t k = std::min(fast_pages_, pages.size());
  std::nth_element(pages.begin(), pages.begin() + k, pages.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  // Pages that stay fast need not move; the kernel demotes the others only to make room.
  std::unordered_set<uint64_t> next;
  next.reserve(k * 2);
  for (size_t i = 0; i < k; ++i) {
    fast_ += pages[i].first;
    next.insert(pages[i].second);
    if (!fast_set_.count(pages[i].second)) migrated_ += page_bytes_;
  }
  // Hot pages of earlier bins stay in the fast tier while there is room for them.
  for (uint64_t page : fast_set_) {
    if (next.size() >= fast_pages_) break;
    next.insert(page);
  }
  fast_set_.swap(next);
  samples_.clear();
}

void PageBound::Finish() {
  CloseBin();
}

}  // namespace tierscope::analyzer
