// A site's identity: the innermost frames of its stack as (module, ELF offset), which survives
// ASLR (docs/architecture.md, "Stacks and site identity").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "profile.pb.h"
#include "sites/module_index.h"

namespace tierscope::analyzer {

class SiteKeyer {
 public:
  SiteKeyer(const ModuleIndex& modules, uint32_t depth) : modules_(modules), depth_(depth) {}

  // The innermost `depth` frames (all when depth is 0).
  std::vector<uint64_t> Truncate(const std::vector<uint64_t>& frames) const;
  // Bytes that are equal exactly when the frames map to the same (module, offset) list.
  std::string Key(const std::vector<uint64_t>& frames) const;
  // Fills site->stack with module path, build-id and offset of each frame.
  void Describe(const std::vector<uint64_t>& frames, profile::Site* site) const;

 private:
  const ModuleIndex& modules_;
  uint32_t depth_;
};

// The match key of a profile site's innermost `depth` locations (build-id, else module path,
// plus offset): what merge and diff match sites by, and what the placer matches at run time.
std::string LocationKey(const profile::Site& site, uint32_t depth);

}  // namespace tierscope::analyzer
