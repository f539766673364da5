// ts-gui-genprofile OUT [kvcache|many N]: writes a generated profile (for the demo and by hand).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "profile_generator.h"
#include "tierscope/formats/profile_io.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUT [kvcache | many N]\n", argv[0]);
    return 2;
  }
  const std::string kind = argc > 2 ? argv[2] : "kvcache";
  try {
    if (kind == "many")
      tierscope::formats::WriteProfile(argv[1], tierscope::gui::testing::MakeManySitesProfile(
                                                    argc > 3 ? std::atoi(argv[3]) : 100000));
    else
      tierscope::formats::WriteProfile(argv[1], tierscope::gui::testing::MakeKvcacheProfile());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
