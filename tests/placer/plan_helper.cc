#include "plan_helper.h"

#include <sstream>

#include "test_support.h"
#include "tierscope/formats/profile_io.h"

namespace tierscope::testing {

std::map<std::string, FunctionRange> FunctionRanges(const std::string& binary) {
  std::map<std::string, FunctionRange> functions;
  auto nm = RunCommand({"/usr/bin/nm", "-S", "--defined-only", binary});
  std::istringstream in(nm.out);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string addr, size, type, name;
    if (!(fields >> addr >> size >> type >> name)) continue;
    if (type != "T" && type != "t") continue;
    const uint64_t start = std::stoull(addr, nullptr, 16);
    functions[name] = {start, start + std::stoull(size, nullptr, 16)};
  }
  return functions;
}

std::string FunctionAt(const std::map<std::string, FunctionRange>& functions, uint64_t offset) {
  for (const auto& [name, range] : functions) {
    if (offset >= range.start && offset < range.end) return name;
  }
  return "";
}

profile::ProfileChunk MakePlan(const std::string& learned_path, const std::string& binary,
                               const std::function<std::string(const std::string&)>& choose) {
  profile::ProfileChunk profile = formats::LoadProfile(learned_path);
  const auto functions = FunctionRanges(binary);
  const std::string base = binary.substr(binary.rfind('/') + 1);
  for (const auto& site : profile.sites()) {
    if (site.stack_size() == 0) continue;
    const auto& top = site.stack(0);
    if (top.module().substr(top.module().rfind('/') + 1) != base) continue;
    const std::string tier = choose(FunctionAt(functions, top.offset()));
    if (tier.empty()) continue;
    auto* a = profile.mutable_plan()->add_assignments();
    a->set_site_id(site.id());
    a->set_tier(tier);
  }
  profile.mutable_plan()->set_site_depth(profile.metadata().site_depth());
  return profile;
}

}  // namespace tierscope::testing
