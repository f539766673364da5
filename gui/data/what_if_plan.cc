#include "data/what_if_plan.h"

#include <algorithm>
#include <exception>
#include <stdexcept>

#include "tierscope/formats/profile_io.h"

namespace tierscope::gui {

std::vector<analyzer::TierSpec> InitialTiers(const profile::ProfileChunk& profile) {
  std::vector<analyzer::TierSpec> tiers;
  for (const profile::Tier& t : profile.tiers()) {
    analyzer::TierSpec spec;
    spec.name = t.name();
    spec.capacity_bytes = t.capacity_bytes();
    spec.latency_ns = t.latency_ns() > 0 ? t.latency_ns() : (tiers.empty() ? 100 : 300);
    tiers.push_back(spec);
  }
  if (tiers.size() >= 2) {
    // The planner requires it, and a hand-made profile may not follow it.
    tiers.back().capacity_bytes = 0;
    return tiers;
  }
  uint64_t peaks = 0;
  for (const profile::Site& s : profile.sites()) peaks += s.peak_live_bytes();
  return {{"fast", std::max<uint64_t>(peaks / 2, 4096), 100}, {"slow", 0, 300}};
}

WhatIfResult Replan(const ProfileData& base, const std::vector<analyzer::TierSpec>& tiers) {
  profile::ProfileChunk planned = base.profile;
  analyzer::PlanOptions options;
  options.tiers = tiers;
  // In the what-if, 0 bytes means an empty tier; to the planner 0 means "no limit".
  for (size_t i = 0; i + 1 < options.tiers.size(); ++i)
    options.tiers[i].capacity_bytes = std::max<uint64_t>(options.tiers[i].capacity_bytes, 1);
  try {
    analyzer::MakePlan(options, &planned);
  } catch (const std::exception& e) {
    return {nullptr, QString::fromUtf8(e.what())};
  }
  for (profile::Tier& tier : *planned.mutable_tiers()) {
    for (const profile::Tier& old : base.profile.tiers()) {
      if (old.name() != tier.name()) continue;
      *tier.mutable_nodes() = old.nodes();
      if (!old.policy().empty()) tier.set_policy(old.policy());
      tier.set_huge_pages(old.huge_pages());
    }
  }
  auto data = ProfileSource::FromProfile(std::move(planned), base.path);
  data->address_map = base.address_map;
  return {std::move(data), {}};
}

bool SaveProfile(const ProfileData& data, const QString& path, QString* error) {
  try {
    formats::WriteProfile(path.toStdString(), data.profile);
    return true;
  } catch (const std::exception& e) {
    // The writer's FormatException already names the file.
    *error = QString::fromUtf8(e.what());
    return false;
  }
}

}  // namespace tierscope::gui
