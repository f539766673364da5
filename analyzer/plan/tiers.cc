// Tier descriptions from flags and files: sizes with K/M/G/T suffixes, latencies in ns.
#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tierscope/analyzer/tiers.h"

namespace tierscope::analyzer {
namespace {

uint64_t ParseSize(const std::string& text, const std::string& what) {
  if (text == "rest" || text == "0") return 0;
  size_t used = 0;
  double number = 0;
  try {
    number = std::stod(text, &used);
  } catch (const std::exception&) {
    throw std::invalid_argument(what + ": '" + text + "' is not a size (e.g. 512M, 8G, rest)");
  }
  std::string suffix = text.substr(used);
  if (!suffix.empty() && (suffix.back() == 'B' || suffix.back() == 'b')) suffix.pop_back();
  if (!suffix.empty() && (suffix.back() == 'i')) suffix.pop_back();
  double scale = 1;
  if (suffix.size() > 1 || number <= 0) {
    throw std::invalid_argument(what + ": '" + text + "' is not a size (e.g. 512M, 8G, rest)");
  }
  if (!suffix.empty()) {
    switch (std::toupper(static_cast<unsigned char>(suffix[0]))) {
      case 'K':
        scale = 1024.0;
        break;
      case 'M':
        scale = 1024.0 * 1024;
        break;
      case 'G':
        scale = 1024.0 * 1024 * 1024;
        break;
      case 'T':
        scale = 1024.0 * 1024 * 1024 * 1024;
        break;
      default:
        throw std::invalid_argument(what + ": unknown size suffix in '" + text + "'");
    }
  }
  return static_cast<uint64_t>(number * scale);
}

double ParseLatency(const std::string& text, const std::string& what) {
  size_t used = 0;
  double ns = -1;
  try {
    ns = std::stod(text, &used);
  } catch (const std::exception&) {
  }
  const std::string unit = text.substr(std::min(used, text.size()));
  if (ns < 0 || used == 0 || !(unit.empty() || unit == "ns")) {
    throw std::invalid_argument(what + ": '" + text + "' is not a latency (e.g. 100ns)");
  }
  return ns;
}

}  // namespace

TierSpec ParseTier(const std::string& spec) {
  const auto eq = spec.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw std::invalid_argument("--tier " + spec +
                                ": expected NAME=SIZE (e.g. fast=8G, slow=rest)");
  }
  TierSpec t;
  t.name = spec.substr(0, eq);
  const std::string size = spec.substr(eq + 1);
  if (!size.empty() && size.back() == '%') {
    size_t used = 0;
    double percent = -1;
    try {
      percent = std::stod(size, &used);
    } catch (const std::exception&) {
    }
    if (used + 1 != size.size() || !(percent > 0 && percent <= 100)) {
      throw std::invalid_argument("--tier " + spec + ": '" + size +
                                  "' is not a share of the peak heap (e.g. 25%)");
    }
    t.share_of_peak = percent / 100;
    return t;
  }
  t.capacity_bytes = ParseSize(size, "--tier " + spec);
  return t;
}

bool HasShares(const std::vector<TierSpec>& tiers) {
  for (const auto& t : tiers) {
    if (t.share_of_peak > 0) return true;
  }
  return false;
}

void ResolveShares(uint64_t peak_heap_bytes, std::vector<TierSpec>* tiers) {
  for (auto& t : *tiers) {
    if (t.share_of_peak <= 0) continue;
    if (peak_heap_bytes == 0) {
      throw std::invalid_argument("tier '" + t.name +
                                  "' is a share of the peak heap, but the trace has no heap");
    }
    t.capacity_bytes = std::max<uint64_t>(1, uint64_t(t.share_of_peak * double(peak_heap_bytes)));
  }
}

void ParseLatencies(const std::string& spec, std::vector<TierSpec>* tiers) {
  std::stringstream in(spec);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) {
      throw std::invalid_argument("--latency " + spec + ": expected NAME=NANOSECONDS,...");
    }
    const std::string name = item.substr(0, eq);
    bool found = false;
    for (auto& t : *tiers) {
      if (t.name == name) {
        t.latency_ns = ParseLatency(item.substr(eq + 1), "--latency " + item);
        found = true;
      }
    }
    if (!found) throw std::invalid_argument("--latency: no tier named '" + name + "'");
  }
}

std::vector<TierSpec> ReadTiersFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument(path + ": cannot be read");
  std::vector<TierSpec> tiers;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const auto hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::stringstream fields(line);
    std::string name, size, latency;
    if (!(fields >> name)) continue;
    const std::string where = path + ":" + std::to_string(number);
    if (!(fields >> size)) throw std::invalid_argument(where + ": expected NAME SIZE [LATENCY]");
    TierSpec t;
    t.name = name;
    t.capacity_bytes = ParseSize(size, where);
    if (fields >> latency) t.latency_ns = ParseLatency(latency, where);
    tiers.push_back(t);
  }
  if (tiers.empty()) throw std::invalid_argument(path + ": no tier in the file");
  return tiers;
}

}  // namespace tierscope::analyzer
