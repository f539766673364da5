// A plan is chosen by what it does on a real run, not by the planner's model alone: candidate
// shapes of the plan are replayed on the run the profile was learned from (in-sample: it is the
// training run; `tierscope evaluate` then judges the choice on another run) and the one that
// serves the most samples from the fast tier wins. Each is replayed twice: with the tiers given
// and with the limited tiers at half their size, because the run a plan serves usually holds more
// than the one it was learned from (more data, more clients) and a plan that fills the fast tier
// with whatever comes first when the heap grows is a poor bet even if it wins when it does not.
// The kernel's first touch is a candidate too, and the default: a plan must serve clearly more
// samples from the fast tier than it (PlanOptions.min_gain_share), else the placer is better off
// placing nothing (it then walks no stack either). A tie on the learned run is no reason to
// deploy a plan, and on another run it may as well come out below first touch.
#include <algorithm>
#include <atomic>
#include <exception>
#include <filesystem>
#include <iterator>
#include <mutex>
#include <thread>

#include "replay/indexed_replay.h"
#include "tierscope/analyzer/evaluate.h"

namespace tierscope::analyzer {
namespace {

// Replays at once, at most: each holds a live map of the learned run.
constexpr size_t kMaxReplayThreads = 4;

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
// keeps all but the hottest sites out even when the learned heap fits whole. A shape that differs
// from another only in where sites the plan does not name go cannot be told apart here: on the
// learned run the plan names every site, so such a shape ties and is never chosen (the knapsack
// with new sites on the fast tier tied in every one of the placement benchmark's 24 points).
constexpr Shape kShapes[] = {
    {"knapsack", PlanOptions::Method::kAuto, 0, false, 1},
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

// The plan that leaves every allocation to the kernel (Plan.leave_to_kernel): the profile's
// tiers and baselines as MakePlan gives them, no assignments, unknown sites on the default
// placement (replayed as first touch, as the placer would leave them).
profile::ProfileChunk KernelPlan(const profile::ProfileChunk& learned, const PlanOptions& options) {
  profile::ProfileChunk kernel = learned;
  MakePlan(options, &kernel);
  profile::Plan* plan = kernel.mutable_plan();
  plan->clear_assignments();
  plan->set_default_tier("default");
  plan->set_site_depth(1);
  plan->set_min_size(0);
  plan->set_leave_to_kernel(true);
  plan->set_method("the kernel's first touch");
  for (const auto& b : plan->baselines()) {
    if (b.name() == "first-touch") {
      plan->set_fast_share(b.fast_share());
      plan->set_stall_saved_ns(b.stall_saved_ns());
    }
  }
  return kernel;
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
  // Each learned trace is indexed once, for every replay. (The tiers' capacities are resolved
  // already, and a plan-only replay needs no footprint.)
  std::vector<TraceIndex> indexes;
  for (const auto& t : traces) {
    indexes.push_back(IndexTrace(t, {cancel, {}}));
    if (indexes.back().cancelled) {
      MakePlan(options, &best);
      return best;
    }
  }
  constexpr size_t kShapeCount = std::size(kShapes);
  constexpr size_t kKernel = kShapeCount;  // the last candidate
  std::vector<profile::ProfileChunk> candidates(kShapeCount + 1, learned);
  for (size_t s = 0; s < kShapeCount; ++s) {
    PlanOptions o = options;
    o.method = kShapes[s].method;
    o.cold_share = kShapes[s].cold_share;
    o.unknown_to_first_tier = kShapes[s].unknown_to_first_tier;
    o.fill_share = kShapes[s].fill_share;
    MakePlan(o, &candidates[s]);
  }
  candidates[kKernel] = KernelPlan(learned, options);
  // Every (shape, trace, room) replay is independent: they run on up to one thread per core, and
  // their results are added up in shape order, so the choice does not depend on which ends first.
  struct Job {
    size_t shape, trace;
    int half;
  };
  // The kernel's first touch is not replayed as a plan of its own: the first shape's replays run
  // first-touch in the same pass (EvaluateOptions::with_first_touch), which places every block as
  // a plan with no assignments would.
  std::vector<Job> jobs;
  for (size_t s = 0; s < kShapeCount; ++s) {
    for (size_t k = 0; k < traces.size(); ++k) {
      for (int half = 0; half < 2; ++half) jobs.push_back({s, k, half});
    }
  }
  std::vector<EvaluationResult> results(jobs.size());
  std::atomic<size_t> next{0};
  std::exception_ptr failure;  // the first replay that threw; rethrown here, as before threads
  std::mutex failure_lock;
  const size_t threads = std::min<size_t>(
      jobs.size(), std::clamp<size_t>(std::thread::hardware_concurrency(), 1, kMaxReplayThreads));
  auto work = [&] {
    for (size_t j; (j = next.fetch_add(1)) < jobs.size();) {
      EvaluateOptions eval;
      eval.tiers = jobs[j].half ? Scaled(options.tiers, 0.5) : options.tiers;
      eval.size_threshold = options.size_threshold;
      eval.plan_only = true;
      eval.with_first_touch = jobs[j].shape == 0;
      eval.cancel = cancel;
      eval.read_ahead = threads == 1;  // else every core has a replay of its own
      try {
        results[j] = EvaluateIndexed(indexes[jobs[j].trace], traces[jobs[j].trace],
                                     candidates[jobs[j].shape], nullptr, eval);
      } catch (...) {
        std::lock_guard<std::mutex> hold(failure_lock);
        if (!failure) failure = std::current_exception();
        next.store(jobs.size());  // no more replays
      }
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);

  double best_fast = -1, kernel_fast = 0, heap = 0;
  size_t best_shape = 0;
  std::string scores;
  for (size_t s = 0; s < candidates.size(); ++s) {
    double fast[2] = {0, 0};
    heap = 0;
    // The kernel's figures are the first shape's replays' second policy.
    const size_t replayed = s == kKernel ? 0 : s;
    const size_t policy = s == kKernel ? 1 : 0;
    for (size_t j = 0; j < jobs.size(); ++j) {
      if (jobs[j].shape != replayed) continue;
      const EvaluationResult& r = results[j];
      if (r.cancelled) return best_fast < 0 ? candidates[0] : candidates[best_shape];
      if (r.policies.size() > policy) fast[jobs[j].half] += r.policies[policy].fast_samples;
      if (!jobs[j].half) heap += double(r.heap_samples);
    }
    char score[96];
    std::snprintf(score, sizeof score, "%.1f%%, %.1f%% at half the room",
                  heap > 0 ? 100 * fast[0] / heap : 0, heap > 0 ? 100 * fast[1] / heap : 0);
    const char* name = s == kKernel ? "the kernel's first touch" : kShapes[s].name;
    scores += std::string(scores.empty() ? "" : "; ") + name + " " + score;
    if (s == kKernel) {
      kernel_fast = fast[0] + fast[1];
    } else if (fast[0] + fast[1] > best_fast) {
      best_fast = fast[0] + fast[1];
      best_shape = s;
    }
  }
  // The gain, as a share of the heap samples, averaged over the two rooms.
  const double gain = heap > 0 ? (best_fast - kernel_fast) / (2 * heap) : 0;
  const bool keep_plan = options.min_gain_share <= 0 || gain >= options.min_gain_share;
  if (note) {
    char verdict[160];
    if (keep_plan) {
      std::snprintf(verdict, sizeof verdict, "%s, chosen by replaying the learned run",
                    kShapes[best_shape].name);
    } else {
      std::snprintf(verdict, sizeof verdict,
                    "none: placement left to the kernel's first touch (the best shape, %s, "
                    "gained %.1f%% of the heap samples, under --min-gain's %.1f%%)",
                    kShapes[best_shape].name, 100 * gain, 100 * options.min_gain_share);
    }
    *note = std::string("plan shape: ") + verdict + " (" + scores + ")";
  }
  best = std::move(candidates[keep_plan ? best_shape : kKernel]);
  return best;
}

}  // namespace tierscope::analyzer
