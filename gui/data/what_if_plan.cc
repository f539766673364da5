#include "data/what_if_plan.h"

#include <QFileInfo>
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

analyzer::PlanOptions WhatIfPlanOptions(const std::vector<analyzer::TierSpec>& tiers) {
  analyzer::PlanOptions options;
  options.tiers = tiers;
  // In the what-if, 0 bytes means an empty tier; to the planner 0 means "no limit".
  for (size_t i = 0; i + 1 < options.tiers.size(); ++i)
    options.tiers[i].capacity_bytes = std::max<uint64_t>(options.tiers[i].capacity_bytes, 1);
  return options;
}

WhatIfResult Replan(const ProfileData& base, const std::vector<analyzer::TierSpec>& tiers) {
  profile::ProfileChunk planned = base.profile;
  try {
    analyzer::MakePlan(WhatIfPlanOptions(tiers), &planned);
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

WhatIfReplay ReplayPlan(const ProfileData& base, const std::vector<analyzer::TierSpec>& tiers,
                        const QString& trace, const std::atomic<bool>* cancel,
                        const std::function<void(double)>& progress, uint64_t peak_heap_bytes) {
  WhatIfReplay out;
  out.trace = trace;
  analyzer::EvaluateOptions options;
  options.cancel = cancel;
  options.progress = progress;
  // A property of the trace (the interleave weights and the report use it): an earlier replay's
  // measurement spares a pass over the trace.
  options.peak_heap_bytes = peak_heap_bytes;
  analyzer::EvaluationResult result;
  try {
    result = analyzer::PlanAndEvaluate(base.profile, WhatIfPlanOptions(tiers), trace.toStdString(),
                                       std::move(options));
  } catch (const std::exception& e) {
    // Unusable tiers (the plan would have said so first), or no memory.
    out.error = QString::fromUtf8(e.what());
    return out;
  }
  if (result.cancelled || (cancel && cancel->load(std::memory_order_relaxed))) {
    out.cancelled = true;
    return out;
  }
  if (result.error) {
    out.error = QString::fromStdString(result.error->Message());
    // A bad header or an unreadable file replays nothing; damage later leaves what came before.
    if (!result.error->KeepsEarlierChunks() || result.heap_samples == 0) return out;
    out.partial = true;
  }
  out.result = std::move(result);
  return out;
}

double StallRatio(const analyzer::EvaluationResult& result, const analyzer::PolicyResult& policy) {
  const double all_fast = double(result.heap_samples) *
                          (result.tiers.empty() ? 0 : result.tiers[0].latency_ns) *
                          result.accesses_per_sample;
  return all_fast > 0 ? policy.stall_ns / all_fast : -1;
}

QString ReplayCaption(const analyzer::EvaluationResult& result) {
  if (!result.held_out)
    return QStringLiteral(
        "IN-SAMPLE: replayed on the trace the profile was learned from (optimistic)");
  return QStringLiteral("held out: replayed on %1 (another run)")
      .arg(QFileInfo(QString::fromStdString(result.trace_path)).fileName());
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
