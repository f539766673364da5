#include "sites/site_keyer.h"

#include <cstring>

namespace tierscope::analyzer {
namespace {

void AppendU64(std::string* out, uint64_t v) {
  char bytes[8];
  std::memcpy(bytes, &v, 8);
  out->append(bytes, 8);
}

}  // namespace

std::vector<uint64_t> SiteKeyer::Truncate(const std::vector<uint64_t>& frames) const {
  if (depth_ == 0 || frames.size() <= depth_) return frames;
  return {frames.begin(), frames.begin() + depth_};
}

std::string SiteKeyer::Key(const std::vector<uint64_t>& frames) const {
  std::string key;
  key.reserve(frames.size() * 16);
  for (uint64_t address : frames) {
    const int m = modules_.Find(address);
    AppendU64(&key, static_cast<uint64_t>(static_cast<int64_t>(m)));
    AppendU64(&key, m < 0 ? address : address - modules_.modules()[m].load_bias());
  }
  return key;
}

void SiteKeyer::Describe(const std::vector<uint64_t>& frames, profile::Site* site) const {
  for (uint64_t address : frames) {
    profile::Location* loc = site->add_stack();
    const int m = modules_.Find(address);
    if (m < 0) {
      loc->set_offset(address);
      continue;
    }
    const trace::Module& module = modules_.modules()[m];
    loc->set_module(module.path());
    loc->set_build_id(module.build_id());
    loc->set_offset(address - module.load_bias());
  }
}

std::string LocationKey(const profile::Site& site, uint32_t depth) {
  std::string key;
  const int n =
      depth == 0 ? site.stack_size() : std::min<int>(site.stack_size(), static_cast<int>(depth));
  for (int i = 0; i < n; ++i) {
    const auto& loc = site.stack(i);
    const std::string& id = loc.build_id().empty() ? loc.module() : loc.build_id();
    AppendU64(&key, id.size());
    key += id;
    AppendU64(&key, loc.offset());
  }
  return key;
}

}  // namespace tierscope::analyzer
