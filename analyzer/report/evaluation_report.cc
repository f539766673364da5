// `tierscope evaluate`'s output: one table of policies and bounds, then the hottest sites.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

#include "tierscope/analyzer/evaluate.h"
#include "tierscope/analyzer/report.h"

namespace tierscope::analyzer {
namespace {

std::string Percent(double share) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", share * 100);
  return buf;
}

std::string Fixed(double v, const char* format) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string Capacity(const TierSpec& t) {
  if (t.capacity_bytes == 0) return "rest";
  std::string c = FormatBytes(double(t.capacity_bytes));
  if (t.share_of_peak > 0) c += " (" + Percent(t.share_of_peak) + " of peak)";
  return c;
}

std::string Provenance(const EvaluationResult& r) {
  if (r.held_out) return "held out: plan learned from " + r.profile_path;
  return "IN-SAMPLE: the plan was learned from this very trace, so its figures are optimistic";
}

}  // namespace

void WriteEvaluationText(const EvaluationResult& r, size_t top_sites, std::ostream& out) {
  out << "replayed " << r.trace_path << " (" << Provenance(r) << ")\n";
  out << "  " << r.heap_samples << " of " << r.total_samples << " samples hit the heap; peak heap "
      << FormatBytes(double(r.peak_heap_bytes)) << "; " << r.allocations << " allocations, "
      << (r.allocations ? Percent(double(r.planned_allocations) / double(r.allocations)) : "0%")
      << " from sites the plan names (" << r.sites_planned_seen << " of " << r.sites_seen
      << " sites, key depth " << r.site_depth << ")\n";
  if (!r.plan_note.empty()) out << "  " << r.plan_note << "\n";
  out << "  tiers:";
  for (const auto& t : r.tiers) {
    out << " " << t.name << "=" << Capacity(t) << " @" << Fixed(t.latency_ns, "%.0f") << "ns";
  }
  out << "\n\n";
  char line[256];
  // Stall relative to every sample served by the fastest tier: 1.00 is all fast.
  const double all_fast = double(r.heap_samples) * (r.tiers.empty() ? 0 : r.tiers[0].latency_ns) *
                          r.accesses_per_sample;
  // The name column is as wide as the longest name, so the figures line up.
  int name_width = 9;  // "placement"
  for (const auto& p : r.policies) name_width = std::max(name_width, int(p.name.size()));
  std::snprintf(line, sizeof line, "%-*s %10s %12s %14s %9s %7s\n", name_width, "placement",
                "fast share", "stall ratio", "peak fast", "spills", "splits");
  out << line;
  for (const auto& p : r.policies) {
    const std::string peak =
        p.peak_bytes.empty() ? "(" + p.kind + ")" : FormatBytes(double(p.peak_bytes[0]));
    std::snprintf(line, sizeof line, "%-*s %10s %12.2f %14s %9llu %7llu\n", name_width,
                  p.name.c_str(), Percent(p.fast_share).c_str(),
                  all_fast > 0 ? p.stall_ns / all_fast : 0, peak.c_str(),
                  static_cast<unsigned long long>(p.spilled_allocations),
                  static_cast<unsigned long long>(p.split_allocations));
    out << line;
  }
  out << "(stall ratio: estimated memory stall from the tiers' latencies, 1.00 = every sample "
         "served by the fastest tier)\n\n";
  for (const auto& p : r.policies) out << "  " << p.name << ": " << p.description << "\n";
  for (const auto& p : r.policies) {
    if (p.migrated_bytes) {
      out << "  " << p.name << " would promote " << FormatBytes(double(p.migrated_bytes))
          << " of pages over the run\n";
    }
  }
  if (top_sites == 0 || r.sites.empty()) return;
  out << "\nhottest sites (fast share of each site's samples per placement):\n";
  std::snprintf(line, sizeof line, "%8s %10s %10s  %-22s", "samples", "allocs", "bytes", "plan");
  out << line;
  for (const auto& p : r.policies) {
    if (p.replayed()) out << " " << p.name.substr(0, 10);
  }
  out << "  site\n";
  size_t shown = 0;
  for (const auto& s : r.sites) {
    if (shown++ == top_sites || s.samples == 0) break;
    std::snprintf(line, sizeof line, "%8llu %10llu %10s  %-22s",
                  static_cast<unsigned long long>(s.samples),
                  static_cast<unsigned long long>(s.allocations),
                  FormatBytes(double(s.bytes)).c_str(), s.planned_tier.c_str());
    out << line;
    size_t k = 0;
    for (const auto& p : r.policies) {
      if (!p.replayed()) continue;
      const double share = s.samples ? s.fast_samples[k] / double(s.samples) : 0;
      std::snprintf(line, sizeof line, " %*s", int(std::min<size_t>(10, p.name.size())),
                    Percent(share).c_str());
      out << line;
      ++k;
    }
    out << "  " << s.label << "\n";
  }
}

void WriteEvaluationJson(const EvaluationResult& r, size_t top_sites, std::ostream& out) {
  nlohmann::ordered_json j;
  j["trace"] = r.trace_path;
  j["profile"] = r.profile_path;
  j["held_out"] = r.held_out;
  j["peak_heap_bytes"] = r.peak_heap_bytes;
  j["heap_samples"] = r.heap_samples;
  j["total_samples"] = r.total_samples;
  j["allocations"] = r.allocations;
  j["planned_allocations"] = r.planned_allocations;
  j["sites_seen"] = r.sites_seen;
  j["sites_planned_seen"] = r.sites_planned_seen;
  j["site_depth"] = r.site_depth;
  j["plan_note"] = r.plan_note;
  j["bin_ns"] = r.bin_ns;
  j["duration_ns"] = r.duration_ns;
  j["accesses_per_sample"] = r.accesses_per_sample;
  j["tiers"] = nlohmann::ordered_json::array();
  for (const auto& t : r.tiers) {
    j["tiers"].push_back({{"name", t.name},
                          {"capacity_bytes", t.capacity_bytes},
                          {"share_of_peak", t.share_of_peak},
                          {"latency_ns", t.latency_ns}});
  }
  j["policies"] = nlohmann::ordered_json::array();
  for (const auto& p : r.policies) {
    nlohmann::ordered_json pj{{"name", p.name},
                              {"kind", p.kind},
                              {"fast_share", p.fast_share},
                              {"fast_samples", p.fast_samples},
                              {"stall_ns", p.stall_ns},
                              {"description", p.description}};
    if (p.replayed()) {
      pj["peak_bytes_by_tier"] = p.peak_bytes;
      pj["bytes_by_bin"] = p.bytes_by_bin;
      pj["spilled_allocations"] = p.spilled_allocations;
      pj["split_allocations"] = p.split_allocations;
      pj["allocations_by_tier"] = p.allocations_by_tier;
    }
    if (p.migrated_bytes) pj["migrated_bytes"] = p.migrated_bytes;
    j["policies"].push_back(std::move(pj));
  }
  j["sites"] = nlohmann::ordered_json::array();
  size_t shown = 0;
  for (const auto& s : r.sites) {
    if (top_sites && shown++ == top_sites) break;
    nlohmann::ordered_json sj{{"label", s.label},
                              {"profile_site", s.profile_site},
                              {"planned_tier", s.planned_tier},
                              {"allocations", s.allocations},
                              {"bytes", s.bytes},
                              {"samples", s.samples}};
    size_t k = 0;
    for (const auto& p : r.policies) {
      if (p.replayed()) sj["fast_samples"][p.name] = s.fast_samples[k++];
    }
    j["sites"].push_back(std::move(sj));
  }
  j["warnings"] = r.warnings;
  out << j.dump(1) << "\n";
}

void WriteEvaluationCsv(const EvaluationResult& r, std::ostream& out) {
  out << "policy,kind,fast_share,fast_samples,heap_samples,stall_ns,peak_fast_bytes,spilled,"
         "migrated_bytes,held_out,split\n";
  for (const auto& p : r.policies) {
    out << CsvEscape(p.name) << "," << p.kind << "," << Fixed(p.fast_share, "%.6f") << ","
        << Fixed(p.fast_samples, "%.1f") << "," << r.heap_samples << ","
        << Fixed(p.stall_ns, "%.0f") << "," << (p.peak_bytes.empty() ? 0 : p.peak_bytes[0]) << ","
        << p.spilled_allocations << "," << p.migrated_bytes << "," << (r.held_out ? 1 : 0) << ","
        << p.split_allocations << "\n";
  }
}

}  // namespace tierscope::analyzer
