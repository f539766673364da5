// libpfm4, loaded when PEBS is first asked for, not linked. Its event tables carry about 41k
// relocations: linked, the loader applied them in every recorded process, PEBS or not, at about
// 6 ms each on this VM (copy-on-write faults over ~330 KiB of pointers), where the timer sampler
// and `--sampler none` never call it.
#pragma once

#include <perfmon/pfmlib_perf_event.h>

#include <string>

namespace tierscope::recorder::sampling {

// The entry points perf_attr.cc uses.
struct PfmLibrary {
  decltype(&pfm_strerror) strerror = nullptr;
  decltype(&pfm_get_pmu_info) get_pmu_info = nullptr;
  decltype(&pfm_get_os_event_encoding) get_os_event_encoding = nullptr;
};

// dlopens libpfm4 and pfm_initialize()s it, once per process (LIBPFM_FORCE_PMU is read then).
// nullptr and one line in *error when the library is missing or does not initialize.
const PfmLibrary* Pfm(std::string* error);

}  // namespace tierscope::recorder::sampling
