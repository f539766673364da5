#include "sites/module_index.h"

#include <algorithm>
#include <iterator>
#include <set>
#include <utility>

namespace tierscope::analyzer {

ModuleIndex::ModuleIndex(const std::vector<trace::Module>& modules,
                         std::vector<AddressRange> thread_stacks) {
  std::sort(thread_stacks.begin(), thread_stacks.end(),
            [](const AddressRange& a, const AddressRange& b) { return a.start < b.start; });
  for (const AddressRange& r : thread_stacks) {
    if (!stacks_.empty() && r.start <= stacks_.back().end) {
      stacks_.back().end = std::max(stacks_.back().end, r.end);
    } else {
      stacks_.push_back(r);
    }
  }
  std::set<std::pair<std::string, uint64_t>> seen;
  for (const auto& m : modules) {
    if (!seen.emplace(m.path(), m.load_bias()).second) continue;
    const int index = static_cast<int>(modules_.size());
    modules_.push_back(m);
    for (const auto& s : m.segments()) {
      if (s.end() <= s.start()) continue;
      ranges_.push_back({s.start(), s.end(), index});
      lowest_ = std::min(lowest_, s.start());
      highest_ = std::max(highest_, s.end());
    }
  }
  std::sort(ranges_.begin(), ranges_.end(),
            [](const Range& a, const Range& b) { return a.start < b.start; });
}

int ModuleIndex::Find(uint64_t address) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), address,
                             [](uint64_t a, const Range& r) { return a < r.start; });
  if (it == ranges_.begin()) return -1;
  --it;
  return address < it->end ? it->module : -1;
}

const char* ModuleIndex::Region(uint64_t address) const {
  if (Find(address) >= 0) return "globals";
  auto stack = std::upper_bound(stacks_.begin(), stacks_.end(), address,
                                [](uint64_t a, const AddressRange& r) { return a < r.start; });
  if (stack != stacks_.begin() && address < std::prev(stack)->end) return "stack";
  if (ranges_.empty() || address < lowest_) return "unknown";
  if (address >= highest_) return "stack";
  return "mapping";
}

}  // namespace tierscope::analyzer
