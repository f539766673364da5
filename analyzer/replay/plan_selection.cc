// A plan is chosen by what it does on a real run, not by the planner's model alone: candidate
// shapes of the plan are replayed on the run the profile was learned from (in-sample: it is the
// training run; `tierscope evaluate` then judges the choice on another run) and the one that
// serves the most samples from the fast tier wins. Each is replayed twice: with the tiers given
// and with the limited tiers at half their size, because the run a plan serves usually holds more
// than the one it was learned from (more data, more clients) and a plan that fills the fast tier
// with whatever comes first when the heap grows is a poor bet even if it wins when it does not.
#include <algorithm>
#include <filesystem>

#include "tierscope/analyzer/evaluate.h"

namespace tierscope::analyzer {
namespace {

struct Shape {
  const char* name;
  PlanOptions::Method method;
  double cold_share;
  bool unknown_to_first_tier;
  double fill_share;
};

// The knapsack with quotas reserves the fast tier for the hottest sites; the all-but-cold shapes
// let every site but the cold ones take it in allocation order, as first-touch would, which wins
// when many sites are about as hot and their data comes and goes. The knapsack for half the room
// keeps all but the hottest sites out even when the learned heap fits whole.
constexpr Shape kShapes[] = {
    {"knapsack", PlanOptions::Method::kAuto, 0, false, 1},
    {"knapsack, new sites spill from the fast tier", PlanOptions::Method::kAuto, 0, true, 1},
    {"knapsack for half the room", PlanOptions::Method::kAuto, 0, false, 0.5},
    {"all but cold (< 1/8 of the mean temperature)", PlanOptions::Method::kAllButCold, 0.125, true,
     1},
    {"all but cold (< 1/2 of the mean temperature)", PlanOptions::Method::kAllButCold, 0.5, true,
     1},
};

// The tiers with every limited one at `share` of its capacity.
std::vector<TierSpec> Scaled(std::vector<TierSpec> tiers, double share) {
  for (size_t t = 0; t + 1 < tiers.size(); ++t) {
    tiers[t].capacity_bytes =
        std::max<uint64_t>(1, uint64_t(double(tiers[t].capacity_bytes) * share));
  }
  return tiers;
}

std::vector<std::string> LearnedTraces(const profile::ProfileChunk& learned) {
  std::vector<std::string> traces;
  for (const auto& run : learned.metadata().runs()) {
    std::error_code ec;
    if (!run.trace_path().empty() && std::filesystem::is_regular_file(run.trace_path(), ec)) {
      traces.push_back(run.trace_path());
    }
  }
  return traces;
}

}  // namespace

profile::ProfileChunk SelectPlan(const profile::ProfileChunk& learned, const PlanOptions& options,
                                 std::string* note, const std::atomic<bool>* cancel) {
  profile::ProfileChunk best = learned;
  const std::vector<std::string> traces = LearnedTraces(learned);
  if (options.method != PlanOptions::Method::kAuto || options.tiers.size() < 2 || traces.empty()) {
    MakePlan(options, &best);
    if (note) {
      *note = traces.empty() && options.tiers.size() > 1
                  ? "plan shape: knapsack (the learned run's trace is not here to choose by)"
                  : "plan shape: " + best.plan().method();
    }
    return best;
  }
  std::vector<uint64_t> peaks;
  for (const auto& t : traces) peaks.push_back(MeasureFootprint(t, cancel).peak_heap_bytes);
  double best_fast = -1;
  std::string chosen, scores;
  for (const Shape& shape : kShapes) {
    PlanOptions o = options;
    o.method = shape.method;
    o.cold_share = shape.cold_share;
    o.unknown_to_first_tier = shape.unknown_to_first_tier;
    o.fill_share = shape.fill_share;
    profile::ProfileChunk candidate = learned;
    MakePlan(o, &candidate);
    double fast[2] = {0, 0}, heap = 0;
    for (size_t k = 0; k < traces.size(); ++k) {
      for (int half = 0; half < 2; ++half) {
        EvaluateOptions eval;
        eval.tiers = half ? Scaled(options.tiers, 0.5) : options.tiers;
        eval.size_threshold = options.size_threshold;
        eval.peak_heap_bytes = peaks[k];
        eval.plan_only = true;
        eval.cancel = cancel;
        const EvaluationResult r = Evaluate(traces[k], candidate, nullptr, eval);
        if (r.cancelled) return best_fast < 0 ? candidate : best;
        if (!r.policies.empty()) fast[half] += r.policies[0].fast_samples;
        if (!half) heap += double(r.heap_samples);
      }
    }
    char score[96];
    std::snprintf(score, sizeof score, "%.1f%%, %.1f%% at half the room",
                  heap > 0 ? 100 * fast[0] / heap : 0, heap > 0 ? 100 * fast[1] / heap : 0);
    scores += std::string(scores.empty() ? "" : "; ") + shape.name + " " + score;
    if (fast[0] + fast[1] > best_fast) {
      best_fast = fast[0] + fast[1];
      best = std::move(candidate);
      chosen = shape.name;
    }
  }
  if (note) {
    *note = "plan shape: " + chosen + ", chosen by replaying the learned run (" + scores + ")";
  }
  return best;
}

}  // namespace tierscope::analyzer
