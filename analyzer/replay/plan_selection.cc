// A plan is chosen by what it does on a real run, not by the planner's model alone: candidate
// shapes of the plan are replayed on the run the profile was learned from (in-sample: it is the
// training run; `tierscope evaluate` then judges the choice on another run) and the one that
// serves the most samples from the fast tier wins.
#include <filesystem>

#include "tierscope/analyzer/evaluate.h"

namespace tierscope::analyzer {
namespace {

struct Shape {
  const char* name;
  PlanOptions::Method method;
  double cold_share;
  bool unknown_to_first_tier;
};

// The knapsack with quotas reserves the fast tier for the hottest sites; the all-but-cold shapes
// let every site but the cold ones take it in allocation order, as first-touch would, which wins
// when many sites are about as hot and their data comes and goes.
constexpr Shape kShapes[] = {
    {"knapsack", PlanOptions::Method::kAuto, 0, false},
    {"knapsack, new sites spill from the fast tier", PlanOptions::Method::kAuto, 0, true},
    {"all but cold (< 1/8 of the mean temperature)", PlanOptions::Method::kAllButCold, 0.125, true},
    {"all but cold (< 1/2 of the mean temperature)", PlanOptions::Method::kAllButCold, 0.5, true},
};

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
    profile::ProfileChunk candidate = learned;
    MakePlan(o, &candidate);
    double fast = 0, heap = 0;
    for (size_t k = 0; k < traces.size(); ++k) {
      EvaluateOptions eval;
      eval.tiers = options.tiers;
      eval.size_threshold = options.size_threshold;
      eval.peak_heap_bytes = peaks[k];
      eval.cancel = cancel;
      const EvaluationResult r = Evaluate(traces[k], candidate, nullptr, eval);
      if (r.cancelled) return best_fast < 0 ? candidate : best;
      if (!r.policies.empty()) fast += r.policies[0].fast_samples;
      heap += double(r.heap_samples);
    }
    char score[64];
    std::snprintf(score, sizeof score, "%.1f%%", heap > 0 ? 100 * fast / heap : 0);
    scores += std::string(scores.empty() ? "" : "; ") + shape.name + " " + score;
    if (fast > best_fast) {
      best_fast = fast;
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
