#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "tierscope/analyzer/report.h"
#include "tierscope/analyzer/sample_counts.h"

namespace tierscope::analyzer {
namespace {

std::string Basename(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::string FormatHex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string FormatBytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
  return buf;
}

std::string CsvEscape(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string FrameName(const profile::Location& loc) {
  const std::string where =
      (loc.module().empty() ? "?" : Basename(loc.module())) + "+" + FormatHex(loc.offset());
  if (loc.lines_size() == 0) return where;
  const auto& line = loc.lines(0);
  std::string name = line.function().empty() ? where : line.function();
  if (!line.file().empty())
    name += " (" + Basename(line.file()) + ":" + std::to_string(line.line()) + ")";
  return name;
}

double TemperatureLow(const profile::Site& site) {
  const double k = double(SiteSamples(site));
  if (k <= 0 || site.temperature() <= 0) return 0;
  return site.temperature() * PoissonLow(k) / k;
}

std::vector<ReportRow> TopSites(const profile::ProfileChunk& profile, size_t top) {
  std::map<uint64_t, std::string> tier_of;
  for (const auto& a : profile.plan().assignments()) tier_of[a.site_id()] = a.tier();
  std::vector<ReportRow> rows;
  for (const auto& s : profile.sites()) {
    auto it = tier_of.find(s.id());
    rows.push_back({&s, it == tier_of.end() ? profile.plan().default_tier() : it->second});
  }
  std::stable_sort(rows.begin(), rows.end(), [](const ReportRow& a, const ReportRow& b) {
    const double la = TemperatureLow(*a.site), lb = TemperatureLow(*b.site);
    if (la != lb) return la > lb;
    if (a.site->temperature() != b.site->temperature()) {
      return a.site->temperature() > b.site->temperature();
    }
    return a.site->peak_live_bytes() > b.site->peak_live_bytes();
  });
  if (top > 0 && rows.size() > top) rows.resize(top);
  return rows;
}

void WriteTextReport(const profile::ProfileChunk& p, size_t top, std::ostream& out) {
  const auto& m = p.metadata();
  out << "sites: " << p.sites_size() << "   duration: " << double(m.duration_ns()) * 1e-9
      << " s   sampler: " << m.sampler() << "   samples: " << m.total_samples() << " ("
      << m.heap_samples() << " on tracked allocations)\n";
  out << "weighting: " << m.weighting() << "\n";
  if (m.samples_by_region_size() > 0) {
    out << "samples outside tracked allocations:";
    for (const auto& [region, n] : std::map<std::string, uint64_t>(m.samples_by_region().begin(),
                                                                   m.samples_by_region().end())) {
      out << " " << region << "=" << n;
    }
    out << "\n";
  }
  if (p.has_plan()) {
    out << "plan: " << p.plan().method() << ", fast-tier share " << p.plan().fast_share() * 100
        << "%, site depth " << p.plan().site_depth() << "\n";
  }
  out << "\n";
  char line[256];
  out << "temperature: samples per MiB of live memory per second; >= its 95% lower bound, by which "
         "sites are ranked\n";
  std::snprintf(line, sizeof line, "%4s %10s %10s %10s %10s %10s %8s %8s  %s\n", "rank", "temp",
                ">= (95%)", "allocs", "bytes", "peak", "samples", "tier",
                "site (innermost frame first)");
  out << line;
  int rank = 0;
  for (const auto& row : TopSites(p, top)) {
    const auto& s = *row.site;
    std::snprintf(
        line, sizeof line, "%4d %10.4g %10.4g %10llu %10s %10s %8llu %8s  ", ++rank,
        PerMiB(s.temperature()), PerMiB(TemperatureLow(s)),
        static_cast<unsigned long long>(s.allocations()), FormatBytes(double(s.bytes())).c_str(),
        FormatBytes(double(s.peak_live_bytes())).c_str(),
        static_cast<unsigned long long>(SiteSamples(s)), row.tier.empty() ? "-" : row.tier.c_str());
    out << line;
    for (int f = 0; f < s.stack_size(); ++f) {
      if (f > 0) out << std::string(83, ' ') << "<- ";
      out << FrameName(s.stack(f)) << "\n";
    }
    if (s.stack_size() == 0) out << "(no stack)\n";
  }
}

void WriteJsonReport(const profile::ProfileChunk& p, size_t top, std::ostream& out) {
  nlohmann::json doc;
  const auto& m = p.metadata();
  doc["sampler"] = m.sampler();
  doc["weighting"] = m.weighting();
  doc["duration_ns"] = m.duration_ns();
  doc["total_samples"] = m.total_samples();
  doc["heap_samples"] = m.heap_samples();
  for (const auto& [region, n] : m.samples_by_region()) doc["samples_by_region"][region] = n;
  doc["sites"] = nlohmann::json::array();
  for (const auto& row : TopSites(p, top)) {
    const auto& s = *row.site;
    nlohmann::json site = {{"id", s.id()},
                           {"temperature", s.temperature()},
                           {"temperature_per_mib_s", PerMiB(s.temperature())},
                           {"temperature_low_per_mib_s", PerMiB(TemperatureLow(s))},
                           {"allocations", s.allocations()},
                           {"bytes", s.bytes()},
                           {"peak_live_bytes", s.peak_live_bytes()},
                           {"load_samples", s.load_samples()},
                           {"store_samples", s.store_samples()},
                           {"tier", row.tier}};
    site["stack"] = nlohmann::json::array();
    for (const auto& loc : s.stack()) {
      nlohmann::json frame = {{"module", loc.module()}, {"offset", loc.offset()}};
      if (loc.lines_size() > 0) {
        frame["function"] = loc.lines(0).function();
        frame["file"] = loc.lines(0).file();
        frame["line"] = loc.lines(0).line();
      }
      site["stack"].push_back(frame);
    }
    doc["sites"].push_back(site);
  }
  out << doc.dump(2) << "\n";
}

void WriteCsvReport(const profile::ProfileChunk& p, size_t top, std::ostream& out) {
  out << "rank,site_id,temperature,allocations,bytes,peak_live_bytes,load_samples,store_samples,"
         "tier,frame\n";
  int rank = 0;
  for (const auto& row : TopSites(p, top)) {
    const auto& s = *row.site;
    out << ++rank << "," << s.id() << "," << s.temperature() << "," << s.allocations() << ","
        << s.bytes() << "," << s.peak_live_bytes() << "," << s.load_samples() << ","
        << s.store_samples() << "," << CsvEscape(row.tier) << ","
        << CsvEscape(s.stack_size() ? FrameName(s.stack(0)) : "") << "\n";
  }
}

}  // namespace tierscope::analyzer
