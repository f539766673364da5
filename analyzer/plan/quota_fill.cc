// Quotas: a site whose live peak is larger than what is left of a tier still gets that room. The
// placer puts its blocks there in allocation order up to the quota (a free gives room back) and
// the rest on the next tier, so a huge warm site no longer loses the whole fast tier to
// first-touch.
#include <algorithm>
#include <numeric>

#include "plan/occupancy.h"
#include "tierscope/analyzer/plan.h"

namespace tierscope::analyzer {

std::vector<Quota> QuotaFill(const std::vector<PlanItem>& items, const std::vector<size_t>& chosen,
                             uint64_t capacity, uint64_t min_quota) {
  std::vector<Quota> quotas;
  if (min_quota == 0 || items.empty()) return quotas;
  Occupancy used(BinsOf(items), capacity);
  std::vector<bool> taken(items.size());
  for (size_t i : chosen) {
    used.Add(items[i]);
    taken[i] = true;
  }
  std::vector<size_t> order;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!taken[i] && items[i].value > 0) order.push_back(i);
  }
  auto density = [&](size_t i) {
    return items[i].value / double(std::max<uint64_t>(1, items[i].peak));
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return density(a) > density(b); });
  for (size_t i : order) {
    const uint64_t slack = std::min(used.Slack(items[i]), items[i].peak);
    if (slack < min_quota) continue;
    // A quota holds whole blocks: one smaller than the site's blocks holds none of them (a site
    // of one 4 MiB mapping gets nothing from a 2 MiB quota). Room for a few typical blocks.
    if (slack < items[i].peak && double(slack) < 4 * items[i].mean_size) continue;
    used.AddCapped(items[i], slack);
    quotas.push_back({i, slack});
  }
  return quotas;
}

}  // namespace tierscope::analyzer
