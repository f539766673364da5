#include <algorithm>
#include <cmath>
#include <cstdio>
#include <unordered_map>

#include "sites/site_keyer.h"
#include "tierscope/analyzer/merge.h"
#include "tierscope/analyzer/report.h"

namespace tierscope::analyzer {
namespace {

int64_t Samples(const profile::Site& s) {
  return static_cast<int64_t>(s.load_samples() + s.store_samples() + s.other_samples());
}

bool Grew(double a, double b, double ratio) {
  return b > a * ratio && b > 0;
}

}  // namespace

std::vector<DiffRow> DiffProfiles(const profile::ProfileChunk& a, const profile::ProfileChunk& b,
                                  double ratio) {
  std::unordered_map<std::string, const profile::Site*> in_b;
  for (const auto& s : b.sites()) in_b.emplace(LocationKey(s, 0), &s);
  std::vector<DiffRow> rows;
  auto row_of = [](const profile::Site& s) {
    DiffRow r;
    r.site = s.stack_size() ? FrameName(s.stack(0)) : "(no stack)";
    return r;
  };
  for (const auto& sa : a.sites()) {
    DiffRow r = row_of(sa);
    r.temperature_a = sa.temperature();
    r.peak_a = static_cast<int64_t>(sa.peak_live_bytes());
    r.samples_a = Samples(sa);
    auto it = in_b.find(LocationKey(sa, 0));
    if (it == in_b.end()) {
      r.change = "gone";
    } else {
      const auto& sb = *it->second;
      in_b.erase(it);
      r.temperature_b = sb.temperature();
      r.peak_b = static_cast<int64_t>(sb.peak_live_bytes());
      r.samples_b = Samples(sb);
      if (Grew(r.temperature_a, r.temperature_b, ratio))
        r.change = "hotter";
      else if (Grew(r.temperature_b, r.temperature_a, ratio))
        r.change = "colder";
      else if (Grew(double(r.peak_a), double(r.peak_b), ratio))
        r.change = "bigger";
      else if (Grew(double(r.peak_b), double(r.peak_a), ratio))
        r.change = "smaller";
      else
        r.change = "same";
    }
    rows.push_back(r);
  }
  for (const auto& sb : b.sites()) {
    if (!in_b.count(LocationKey(sb, 0))) continue;
    DiffRow r = row_of(sb);
    r.change = "new";
    r.temperature_b = sb.temperature();
    r.peak_b = static_cast<int64_t>(sb.peak_live_bytes());
    r.samples_b = Samples(sb);
    rows.push_back(r);
  }
  // Biggest movers first: by change in samples, then in peak bytes.
  std::stable_sort(rows.begin(), rows.end(), [](const DiffRow& x, const DiffRow& y) {
    const auto dx = std::llabs(x.samples_b - x.samples_a),
               dy = std::llabs(y.samples_b - y.samples_a);
    if (dx != dy) return dx > dy;
    return std::llabs(x.peak_b - x.peak_a) > std::llabs(y.peak_b - y.peak_a);
  });
  return rows;
}

void WriteDiff(const std::vector<DiffRow>& rows, std::ostream& out) {
  char line[256];
  std::snprintf(line, sizeof line, "%-8s %12s %12s %12s %12s %9s %9s  %s\n", "change", "temp A",
                "temp B", "peak A", "peak B", "samples A", "samples B", "site");
  out << line;
  for (const auto& r : rows) {
    std::snprintf(line, sizeof line, "%-8s %12.4g %12.4g %12lld %12lld %9lld %9lld  ",
                  r.change.c_str(), r.temperature_a, r.temperature_b,
                  static_cast<long long>(r.peak_a), static_cast<long long>(r.peak_b),
                  static_cast<long long>(r.samples_a), static_cast<long long>(r.samples_b));
    out << line << r.site << "\n";
  }
}

}  // namespace tierscope::analyzer
