// What the user asked of access sampling: which sources, at what period, under what CPU budget.
// Parsed from `tierscope record` flags or from the TIERSCOPE_SAMPLE* environment (README.md).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tierscope::recorder {

enum class SamplerChoice { kAuto, kPebs, kIbs, kTimer, kFaults };

struct SamplingOptions {
  // Empty: sampling off ("none"). "auto" picks PEBS, then IBS, then timer. Auto by default: the
  // plan needs access samples, and a recording without them plans nothing (it used to be off
  // unless asked, and `tierscope record -- PROGRAM` gave a trace no plan could use).
  std::vector<SamplerChoice> samplers = {SamplerChoice::kAuto};
  // Whether to say which source auto picked, and why not the others. Not when auto is only the
  // default: `tierscope record`'s summary names the source, and most machines say the same.
  bool say_auto_choice = true;
  // 0: the source's default (timer 1 ms in ns, PEBS 10007 events, IBS 0x10000 ops, faults 1).
  uint64_t period = 0;
  // libpfm4 event strings for PEBS; empty: defaults for the CPU model.
  std::vector<std::string> events;
  // Target share of the program's CPU for sampling: sets the timer's period from the measured cost
  // of its samples when no period is given, and the drain thread's share for the adaptive period.
  // 0 turns both off (a fixed period).
  double cpu_budget = 0.03;
  // What one timer sample costs the interrupted thread, in ns, as `tierscope record` measured it
  // (timer_cost.h) and passed in TIERSCOPE_TIMER_SAMPLE_COST; 0: not measured.
  uint64_t timer_sample_cost_ns = 0;
};

// "auto", "none", "timer", "timer+faults", "pebs+faults"... Returns false and one line in *error.
bool ParseSamplerSpec(const std::string& spec, std::vector<SamplerChoice>* out, std::string* error);
// "1000", "1ms", "250us", "2000ns" (timer periods are in ns; event periods are plain counts).
bool ParseSamplePeriod(const std::string& text, uint64_t* out, std::string* error);
// "60us", "45000": what one timer sample costs (TIERSCOPE_TIMER_SAMPLE_COST).
bool ParseTimerSampleCost(const std::string& text, uint64_t* out, std::string* error);
// "3%", "0.03", "0" (off). Must be below one core.
bool ParseSampleBudget(const std::string& text, double* out, std::string* error);
// Comma-separated libpfm4 event strings.
bool ParseSampleEvents(const std::string& text, std::vector<std::string>* out, std::string* error);

// Reads TIERSCOPE_SAMPLER, TIERSCOPE_SAMPLE_PERIOD, TIERSCOPE_SAMPLE_EVENT,
// TIERSCOPE_SAMPLE_BUDGET, TIERSCOPE_TIMER_SAMPLE_COST over `options` (defaults kept for unset
// variables). Never allocates through exceptions.
bool SamplingOptionsFromEnv(SamplingOptions* options, std::string* error);
// The same from `lookup` (a variable's value, or null when unset): `tierscope record` checks the
// variables its program would inherit before it starts it.
bool SamplingOptionsFrom(const std::function<const char*(const char*)>& lookup,
                         SamplingOptions* options, std::string* error);

const char* SamplerChoiceName(SamplerChoice choice);
std::string SamplerSpecString(const std::vector<SamplerChoice>& samplers);

}  // namespace tierscope::recorder
