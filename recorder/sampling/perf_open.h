// perf_event_open for one thread, and the one-line explanation of why it failed.
#pragma once

#include <linux/perf_event.h>
#include <sys/types.h>

#include <string>

namespace tierscope::recorder::sampling {

// Opens `attr` on thread `tid` (any CPU), close-on-exec. Returns the fd or -errno.
int PerfEventOpen(const perf_event_attr& attr, pid_t tid, int group_fd = -1);

// Whether the kernel opens the hardware cycles event on this thread (0) or why not (errno): it
// fails without a hardware PMU, as in most VMs, where PEBS cannot work either.
int OpenHardwareCycles();

// Reason and remedy for a failed open of `sampler` ("timer", "pebs"...), e.g.
// "timer: perf_event_open: Permission denied (kernel.perf_event_paranoid=3): run
//  'sysctl kernel.perf_event_paranoid=1' or give the recorder CAP_PERFMON".
std::string ExplainOpenError(const std::string& sampler, int err);

// /proc/sys/kernel/perf_event_paranoid, or 99 when unreadable.
int PerfEventParanoid();

// Writes one line to stderr with write(2): no allocation through the program's stdio.
void WarnLine(const std::string& line);

}  // namespace tierscope::recorder::sampling
