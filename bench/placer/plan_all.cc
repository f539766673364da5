// ts-placer-plan-all LEARNED OUT TIER: a plan that puts every site of a placer-learned profile
// (TIERSCOPE_PLACER_SITES / tierscope run --learn) on TIER. For benchmarks: a plan covering all
// of a program's sites, without the recorder and analyzer in the loop.
#include <iostream>

#include "tierscope/formats/profile_io.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: ts-placer-plan-all LEARNED OUT TIER\n";
    return 2;
  }
  try {
    auto profile = tierscope::formats::LoadProfile(argv[1]);
    for (const auto& site : profile.sites()) {
      auto* a = profile.mutable_plan()->add_assignments();
      a->set_site_id(site.id());
      a->set_tier(argv[3]);
    }
    profile.mutable_plan()->set_site_depth(profile.metadata().site_depth());
    tierscope::formats::WriteProfile(argv[2], profile);
  } catch (const std::exception& e) {
    std::cerr << "ts-placer-plan-all: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
