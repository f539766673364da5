#include "sampling_options.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace tierscope::recorder {
namespace {

bool ChoiceFromName(const std::string& name, SamplerChoice* out) {
  static const struct {
    const char* name;
    SamplerChoice choice;
  } kNames[] = {{"auto", SamplerChoice::kAuto},
                {"pebs", SamplerChoice::kPebs},
                {"ibs", SamplerChoice::kIbs},
                {"timer", SamplerChoice::kTimer},
                {"faults", SamplerChoice::kFaults}};
  for (const auto& n : kNames) {
    if (name == n.name) {
      *out = n.choice;
      return true;
    }
  }
  return false;
}

bool Fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return false;
}

}  // namespace

const char* SamplerChoiceName(SamplerChoice choice) {
  switch (choice) {
    case SamplerChoice::kAuto:
      return "auto";
    case SamplerChoice::kPebs:
      return "pebs";
    case SamplerChoice::kIbs:
      return "ibs";
    case SamplerChoice::kTimer:
      return "timer";
    case SamplerChoice::kFaults:
      return "faults";
  }
  return "?";
}

std::string SamplerSpecString(const std::vector<SamplerChoice>& samplers) {
  if (samplers.empty()) return "none";
  std::string s;
  for (auto c : samplers) {
    if (!s.empty()) s += "+";
    s += SamplerChoiceName(c);
  }
  return s;
}

bool ParseSamplerSpec(const std::string& spec, std::vector<SamplerChoice>* out,
                      std::string* error) {
  out->clear();
  if (spec == "none") return true;
  if (spec.empty())
    return Fail(error, "empty --sampler (use auto, pebs, ibs, timer, faults, none)");
  size_t start = 0;
  int access_sources = 0;
  while (start <= spec.size()) {
    size_t plus = spec.find('+', start);
    std::string name =
        spec.substr(start, plus == std::string::npos ? std::string::npos : plus - start);
    SamplerChoice choice;
    if (!ChoiceFromName(name, &choice)) {
      return Fail(error, "unknown sampler '" + name + "' in --sampler '" + spec +
                             "' (use auto, pebs, ibs, timer, faults, none, joined with +)");
    }
    for (auto c : *out) {
      if (c == choice) return Fail(error, "sampler '" + name + "' given twice in '" + spec + "'");
    }
    if (choice != SamplerChoice::kFaults) ++access_sources;
    out->push_back(choice);
    if (plus == std::string::npos) break;
    start = plus + 1;
  }
  // Two instruction-level sources would sample the same accesses twice with different weights.
  if (access_sources > 1) {
    return Fail(error, "--sampler '" + spec +
                           "' combines several of auto/pebs/ibs/timer; pick one (faults may be "
                           "added to any)");
  }
  return true;
}

namespace {

// A count, or a duration with a unit (ns, us, ms, s) and maybe a fraction ("2.5ms", what the
// record summary prints), in ns; `what` names it in errors.
bool ParseAmount(const std::string& what, const std::string& text, uint64_t* out,
                 std::string* error) {
  if (text.empty() || text[0] < '0' || text[0] > '9') {
    return Fail(error, "bad " + what + " '" + text + "' (a positive number, e.g. 1ms or 10007)");
  }
  errno = 0;
  char* end = nullptr;
  unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  if (errno == ERANGE) return Fail(error, what + " '" + text + "' out of range (1 .. 2^40)");
  // The fraction's digits, as a numerator over 10^digits (at most 9: nanoseconds of a second).
  uint64_t fraction = 0, denominator = 1;
  if (*end == '.') {
    ++end;
    if (*end < '0' || *end > '9') {
      return Fail(error, "bad " + what + " '" + text + "' (a digit must follow the point)");
    }
    for (; *end >= '0' && *end <= '9'; ++end) {
      if (denominator < 1000000000) {
        fraction = fraction * 10 + uint64_t(*end - '0');
        denominator *= 10;
      }
    }
  }
  std::string unit(end);
  uint64_t scale = 1;
  if (unit == "" || unit == "ns")
    scale = 1;
  else if (unit == "us")
    scale = 1000;
  else if (unit == "ms")
    scale = 1000000;
  else if (unit == "s")
    scale = 1000000000;
  else
    return Fail(error, "bad unit '" + unit + "' in " + what + " '" + text + "' (ns, us, ms, s)");
  if (denominator > 1 && (unit == "" || fraction * scale % denominator != 0)) {
    return Fail(error, "bad " + what + " '" + text +
                           "' (a fraction must come to whole nanoseconds, with a unit: 2.5ms)");
  }
  const uint64_t total =
      value > (uint64_t{1} << 40) / scale ? 0 : value * scale + fraction * scale / denominator;
  if (total == 0 || total > (uint64_t{1} << 40)) {
    return Fail(error, what + " '" + text + "' out of range (1 .. 2^40)");
  }
  *out = total;
  return true;
}

}  // namespace

bool ParseSamplePeriod(const std::string& text, uint64_t* out, std::string* error) {
  return ParseAmount("--sample-period", text, out, error);
}

bool ParseTimerSampleCost(const std::string& text, uint64_t* out, std::string* error) {
  return ParseAmount("timer sample cost", text, out, error);
}

bool ParseSampleBudget(const std::string& text, double* out, std::string* error) {
  if (text.empty()) return Fail(error, "empty --sample-budget (e.g. 3% or 0.03; 0 = fixed period)");
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  std::string rest(end);
  if (rest == "%")
    value /= 100;
  else if (!rest.empty() || end == text.c_str()) {
    return Fail(error, "bad --sample-budget '" + text + "' (e.g. 3% or 0.03; 0 = fixed period)");
  }
  if (!std::isfinite(value) || value < 0 || value >= 1) {
    return Fail(error, "--sample-budget '" + text + "' must be in [0, 100%)");
  }
  *out = value;
  return true;
}

bool ParseSampleEvents(const std::string& text, std::vector<std::string>* out, std::string* error) {
  out->clear();
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string event =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (event.empty()) return Fail(error, "empty event name in --event '" + text + "'");
    out->push_back(event);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return true;
}

bool SamplingOptionsFromEnv(SamplingOptions* options, std::string* error) {
  return SamplingOptionsFrom(std::getenv, options, error);
}

bool SamplingOptionsFrom(const std::function<const char*(const char*)>& lookup,
                         SamplingOptions* options, std::string* error) {
  auto with_name = [&](const char* name) {
    if (error) *error = std::string(name) + ": " + *error;
    return false;
  };
  if (const char* v = lookup("TIERSCOPE_SAMPLER")) {
    if (!ParseSamplerSpec(v, &options->samplers, error)) return with_name("TIERSCOPE_SAMPLER");
  } else {
    options->say_auto_choice = false;
  }
  if (const char* v = lookup("TIERSCOPE_SAMPLE_PERIOD")) {
    if (!ParseSamplePeriod(v, &options->period, error)) {
      return with_name("TIERSCOPE_SAMPLE_PERIOD");
    }
  }
  if (const char* v = lookup("TIERSCOPE_SAMPLE_EVENT")) {
    if (!ParseSampleEvents(v, &options->events, error)) return with_name("TIERSCOPE_SAMPLE_EVENT");
  }
  if (const char* v = lookup("TIERSCOPE_TIMER_SAMPLE_COST")) {
    if (!ParseTimerSampleCost(v, &options->timer_sample_cost_ns, error)) {
      return with_name("TIERSCOPE_TIMER_SAMPLE_COST");
    }
  }
  if (const char* v = lookup("TIERSCOPE_SAMPLE_BUDGET")) {
    if (!ParseSampleBudget(v, &options->cpu_budget, error)) {
      return with_name("TIERSCOPE_SAMPLE_BUDGET");
    }
  }
  return true;
}

}  // namespace tierscope::recorder
