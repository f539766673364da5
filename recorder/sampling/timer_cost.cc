#include "timer_cost.h"

#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "perf_attr.h"
#include "perf_open.h"

namespace tierscope::recorder::sampling {
namespace {

// Short enough that an interrupt's cost stands well out of the noise of a few ms of work, long
// enough for the kernel to take it (perf_event_max_sample_rate is 100 kHz by default).
constexpr uint64_t kProbePeriodNs = 100000;
constexpr size_t kRingDataPages = 8;  // as a session's timer ring (sampler_catalogue.cc)
constexpr size_t kWorkingSetWords = size_t{1} << 19;  // 4 MiB: a program's caches and TLB to lose
constexpr uint64_t kPhaseNs = 5000000;                // the loop's length without sampling
constexpr int kRounds = 3;

uint64_t ThreadCpuNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

// Strided reads and writes over the working set: the kind of loop a sample interrupts.
uint64_t Touch(uint64_t* words, uint64_t iterations) {
  uint64_t sum = 0;
  for (uint64_t i = 0; i < iterations; ++i) {
    const size_t at = (i * 4099) & (kWorkingSetWords - 1);
    sum += words[at];
    words[at] = sum ^ i;
  }
  return sum;
}

struct Mapping {
  void* at = MAP_FAILED;
  size_t bytes = 0;
  ~Mapping() {
    if (at != MAP_FAILED) munmap(at, bytes);
  }
};

}  // namespace

bool MeasureTimerSampleCost(uint64_t* cost_ns, std::string* error) {
  perf_event_attr attr = TimerAttr(kProbePeriodNs);
  attr.disabled = 1;
  const int fd = PerfEventOpen(attr, 0);
  if (fd < 0) {
    *error = ExplainOpenError("timer", -fd);
    return false;
  }
  const size_t page = size_t(sysconf(_SC_PAGESIZE));
  Mapping ring, work;
  ring.bytes = (1 + kRingDataPages) * page;
  ring.at = mmap(nullptr, ring.bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  work.bytes = kWorkingSetWords * sizeof(uint64_t);
  work.at = mmap(nullptr, work.bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (ring.at == MAP_FAILED || work.at == MAP_FAILED) {
    close(fd);
    *error = "timer: cannot map the cost probe's buffers";
    return false;
  }
  auto* words = static_cast<uint64_t*>(work.at);
  auto* meta = static_cast<perf_event_mmap_page*>(ring.at);
  volatile uint64_t sink = Touch(words, kWorkingSetWords);  // faults the set in

  // Sizes the loop to about kPhaseNs on this machine.
  uint64_t iterations = 1 << 20;
  for (;;) {
    const uint64_t start = ThreadCpuNs();
    sink = sink + Touch(words, iterations);
    const uint64_t took = ThreadCpuNs() - start;
    if (took >= kPhaseNs / 4 || iterations >= (uint64_t{1} << 34)) {
      iterations =
          uint64_t(double(iterations) * double(kPhaseNs) / double(std::max<uint64_t>(took, 1)));
      break;
    }
    iterations *= 4;
  }

  double costs[kRounds];
  for (double& cost : costs) {
    uint64_t start = ThreadCpuNs();
    sink = sink + Touch(words, iterations);
    const uint64_t quiet = ThreadCpuNs() - start;
    ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
    start = ThreadCpuNs();
    sink = sink + Touch(words, iterations);
    const uint64_t sampled = ThreadCpuNs() - start;
    ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
    // Task-clock fires once per period of the thread's CPU time, its own cost included.
    const double samples = double(sampled) / double(kProbePeriodNs);
    cost = samples >= 1 ? (double(sampled) - double(quiet)) / samples : 0;
    // Empties the ring as the drain thread would, so every round writes its records.
    const uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
    __atomic_store_n(&meta->data_tail, head, __ATOMIC_RELEASE);
  }
  close(fd);
  std::sort(costs, costs + kRounds);
  const double median = costs[kRounds / 2];
  *cost_ns = median > 0 ? uint64_t(std::llround(median)) : 0;
  return true;
}

uint64_t TimerPeriodForBudget(uint64_t sample_cost_ns, double budget) {
  if (budget <= 0 || sample_cost_ns == 0) return kDefaultTimerPeriodNs;
  const double share_for_interrupts = 0.8 * budget;
  const double period = double(sample_cost_ns) / share_for_interrupts;
  // Whole tenths of a millisecond: a period a person reads and can pass back as a flag.
  constexpr uint64_t kStep = 100000;
  const uint64_t rounded = (uint64_t(std::ceil(period)) + kStep - 1) / kStep * kStep;
  return std::clamp(rounded, kDefaultTimerPeriodNs, kLongestDefaultTimerPeriodNs);
}

}  // namespace tierscope::recorder::sampling
