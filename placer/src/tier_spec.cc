#include "tierscope/placer/tier_spec.h"

#include <numa.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace tierscope::placer {
namespace {

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(s);
  while (std::getline(in, part, sep)) parts.push_back(part);
  if (!s.empty() && s.back() == sep) parts.emplace_back();
  return parts;
}

std::optional<int> ParseNode(const std::string& text) {
  if (text.empty() || text.size() > 4) return std::nullopt;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  return std::stoi(text);
}

std::optional<std::vector<int>> ParseNodes(std::string text) {
  if (text.rfind("node:", 0) == 0) text = text.substr(5);
  std::vector<int> nodes;
  for (const auto& item : Split(text, '+')) {
    const auto dash = item.find('-');
    auto first = ParseNode(item.substr(0, dash));
    auto last = dash == std::string::npos ? first : ParseNode(item.substr(dash + 1));
    if (!first || !last || *last < *first) return std::nullopt;
    for (int n = *first; n <= *last; ++n) nodes.push_back(n);
  }
  std::sort(nodes.begin(), nodes.end());
  nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  if (nodes.empty()) return std::nullopt;
  return nodes;
}

}  // namespace

std::string JoinNodes(const std::vector<int>& nodes, const char* sep) {
  std::string text;
  for (int n : nodes) {
    if (!text.empty()) text += sep;
    text += std::to_string(n);
  }
  return text;
}

const char* PolicyName(Policy policy) {
  switch (policy) {
    case Policy::kBind:
      return "bind";
    case Policy::kPreferred:
      return "preferred";
    case Policy::kInterleave:
      return "interleave";
  }
  return "bind";
}

std::optional<Policy> ParsePolicy(const std::string& text) {
  if (text == "bind" || text.empty()) return Policy::kBind;
  if (text == "preferred") return Policy::kPreferred;
  if (text == "interleave") return Policy::kInterleave;
  return std::nullopt;
}

std::optional<uint64_t> ParseSize(const std::string& text) {
  if (text.empty()) return std::nullopt;
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 15) return std::nullopt;
  uint64_t value = std::stoull(text.substr(0, digits));
  const std::string suffix = text.substr(digits);
  int shift = 0;
  if (suffix.empty() || suffix == "B") {
    shift = 0;
  } else if (suffix == "K" || suffix == "KiB" || suffix == "k") {
    shift = 10;
  } else if (suffix == "M" || suffix == "MiB") {
    shift = 20;
  } else if (suffix == "G" || suffix == "GiB") {
    shift = 30;
  } else if (suffix == "T" || suffix == "TiB") {
    shift = 40;
  } else {
    return std::nullopt;
  }
  if (shift && value > (UINT64_MAX >> shift)) return std::nullopt;
  return value << shift;
}

std::optional<std::vector<TierSpec>> ParseTierSpec(const std::string& spec, std::string* error) {
  std::vector<TierSpec> tiers;
  for (const auto& raw : Split(spec, ';')) {
    const std::string item = Trim(raw);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      *error = "tier '" + item + "': expected NAME=NODES (e.g. fast=node:0)";
      return std::nullopt;
    }
    TierSpec tier;
    tier.name = Trim(item.substr(0, eq));
    for (char c : tier.name) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
        *error = "tier name '" + tier.name + "': use letters, digits, '_' or '-'";
        return std::nullopt;
      }
    }
    if (tier.name == "default") {
      *error = "tier name 'default' is reserved for the kernel's default placement";
      return std::nullopt;
    }
    for (const auto& other : tiers) {
      if (other.name == tier.name) {
        *error = "tier '" + tier.name + "' is listed twice";
        return std::nullopt;
      }
    }
    const auto fields = Split(item.substr(eq + 1), ',');
    auto nodes = fields.empty() ? std::nullopt : ParseNodes(Trim(fields[0]));
    if (!nodes) {
      *error = "tier '" + tier.name + "': bad node list '" + (fields.empty() ? "" : fields[0]) +
               "' (e.g. 0, node:1, 0-3, 1+3)";
      return std::nullopt;
    }
    tier.nodes = *nodes;
    for (size_t i = 1; i < fields.size(); ++i) {
      const std::string field = Trim(fields[i]);
      const auto feq = field.find('=');
      const std::string key = field.substr(0, feq);
      const std::string value = feq == std::string::npos ? "" : field.substr(feq + 1);
      if (key == "policy") {
        auto policy = ParsePolicy(value);
        if (!policy) {
          *error = "tier '" + tier.name + "': unknown policy '" + value +
                   "' (bind, preferred or interleave)";
          return std::nullopt;
        }
        tier.policy = *policy;
      } else if (key == "capacity") {
        auto size = ParseSize(value);
        if (!size) {
          *error = "tier '" + tier.name + "': bad capacity '" + value + "' (e.g. 512M, 4G)";
          return std::nullopt;
        }
        tier.capacity_bytes = *size;
      } else if (key == "thp") {
        if (value == "on") {
          tier.thp = Thp::kOn;
        } else if (value == "off") {
          tier.thp = Thp::kOff;
        } else if (value == "default") {
          tier.thp = Thp::kDefault;
        } else {
          *error = "tier '" + tier.name + "': thp must be on, off or default, not '" + value + "'";
          return std::nullopt;
        }
      } else {
        *error =
            "tier '" + tier.name + "': unknown option '" + field + "' (policy=, capacity=, thp=)";
        return std::nullopt;
      }
    }
    tiers.push_back(std::move(tier));
  }
  if (tiers.empty()) {
    *error = "no tiers in '" + spec + "' (e.g. fast=node:0;slow=node:1)";
    return std::nullopt;
  }
  if (tiers.size() > 8) {
    *error = "at most 8 tiers";
    return std::nullopt;
  }
  return tiers;
}

std::optional<std::vector<TierSpec>> ReadTierFile(const std::string& path, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = path + ": cannot read the tiers file";
    return std::nullopt;
  }
  std::string line, spec;
  while (std::getline(in, line)) {
    line = Trim(line.substr(0, line.find('#')));
    if (!line.empty()) spec += line + ";";
  }
  auto tiers = ParseTierSpec(spec, error);
  if (!tiers) *error = path + ": " + *error;
  return tiers;
}

std::string FormatTierSpec(const std::vector<TierSpec>& tiers) {
  std::string spec;
  for (const auto& t : tiers) {
    if (!spec.empty()) spec += ";";
    spec += t.name + "=node:" + JoinNodes(t.nodes, "+") + ",policy=" + PolicyName(t.policy);
    if (t.capacity_bytes) spec += ",capacity=" + std::to_string(t.capacity_bytes);
    if (t.thp != Thp::kDefault) spec += t.thp == Thp::kOn ? ",thp=on" : ",thp=off";
  }
  return spec;
}

std::optional<std::string> ValidateTierNodes(const std::vector<TierSpec>& tiers) {
  if (numa_available() < 0) {
    for (const auto& t : tiers) {
      for (int n : t.nodes) {
        if (n != 0)
          return "tier '" + t.name + "': node " + std::to_string(n) +
                 " does not exist (no NUMA support here: only node 0)";
      }
    }
    return std::nullopt;
  }
  struct bitmask* allowed = numa_get_mems_allowed();
  std::vector<int> allowed_nodes;
  for (int n = 0; n <= numa_max_node(); ++n) {
    if (numa_bitmask_isbitset(allowed, n)) allowed_nodes.push_back(n);
  }
  const std::string allowed_text = JoinNodes(allowed_nodes, ",");
  std::optional<std::string> problem;
  for (const auto& t : tiers) {
    for (int n : t.nodes) {
      if (!problem && (n > numa_max_node() || !numa_bitmask_isbitset(allowed, n))) {
        problem = "tier '" + t.name + "': node " + std::to_string(n) +
                  " does not exist or is not allowed here (allowed nodes: " + allowed_text + ")";
      }
    }
  }
  numa_bitmask_free(allowed);
  return problem;
}

bool WantsHugePages(const TierSpec& tier, size_t index) {
  if (tier.thp == Thp::kDefault) return index == 0;
  return tier.thp == Thp::kOn;
}

}  // namespace tierscope::placer
