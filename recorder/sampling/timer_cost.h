// What one timer sample costs the thread it interrupts, measured on this machine, and the timer
// period that keeps sampling within its CPU budget at that cost.
//
// Why: a task-clock sample is an interrupt. On bare metal that is a microsecond or two; in a VM
// every interrupt is a trip through the hypervisor, and on the VMs we run on it measured 45-65 us
// (the interrupt, the record's write, and the caches and TLB it leaves cold). At the 1 ms default
// that is 5-6% of the program's CPU, twice the 3% budget, and nothing the drain thread measures
// sees it. So `tierscope record` measures the cost once and stretches the default period to fit.
#pragma once

#include <cstdint>
#include <string>

namespace tierscope::recorder::sampling {

// Runs a fixed memory-touching loop on the calling thread with and without a task-clock sampling
// event at a short period, three times, and returns the median extra CPU time per sample, in ns
// (0 when the difference drowns in noise: a cheap interrupt). About 50 ms of CPU here. False and
// one line in *error when the event cannot be opened.
bool MeasureTimerSampleCost(uint64_t* cost_ns, std::string* error);

// The longest period the budget may stretch the default to: a run sampled more sparsely would
// plan from too few samples; the record summary then says what sampling cost.
inline constexpr uint64_t kLongestDefaultTimerPeriodNs = 100000000;  // 100 ms

// The timer's period when the user did not give one: long enough that samples costing
// `sample_cost_ns` each take at most 80% of `budget` (the drain thread gets the rest: it used
// well under 0.5% in every configuration measured), never shorter than the 1 ms default nor
// longer than kLongestDefaultTimerPeriodNs.
// budget <= 0 (a fixed period was asked for) or an unknown cost: the default.
uint64_t TimerPeriodForBudget(uint64_t sample_cost_ns, double budget);

}  // namespace tierscope::recorder::sampling
