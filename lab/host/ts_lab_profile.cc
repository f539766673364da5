// ts-lab-profile: writes a profile (formats/profile_io.h) with a hand-made plan, for the tier
// lab's placer tests: the sites are given by their match keys, so the test decides exactly
// which site goes to which tier and can check every one of them in the guest.
//
//   ts-lab-profile OUT --keys FILE [--tier NAME=NODE[:CAPACITY_BYTES]]... [--plan SITE=TIER]...
//                  [--default TIER]
//
// FILE has lines "key SITE MODULE BUILD_ID|- OFFSET" (ts-lab-sites --keys, lab/site-keys).
// Keys are one frame deep (Plan.site_depth = 1). Exit 0, or 2 with one line on bad input.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "tierscope/formats/profile_io.h"

namespace {

[[noreturn]] void Fail(const std::string& why) {
  std::fprintf(stderr, "ts-lab-profile: %s\n", why.c_str());
  std::exit(2);
}

std::string HexToBytes(const std::string& hex) {
  if (hex == "-") return "";
  if (hex.size() % 2 != 0) Fail("odd-length build-id " + hex);
  std::string bytes;
  for (size_t i = 0; i < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  }
  return bytes;
}

std::pair<std::string, std::string> Split(const std::string& text, char sep) {
  const auto at = text.find(sep);
  if (at == std::string::npos) Fail("expected NAME" + std::string(1, sep) + "VALUE: " + text);
  return {text.substr(0, at), text.substr(at + 1)};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    Fail(
        "usage: ts-lab-profile OUT --keys FILE [--tier NAME=NODE[:CAP]]... [--plan SITE=TIER]... "
        "[--default TIER]");
  }
  const std::string out = argv[1];
  tierscope::profile::ProfileChunk profile;
  std::map<std::string, tierscope::profile::Site*> sites;
  std::map<std::string, std::string> plan;
  auto* p = profile.mutable_plan();
  p->set_site_depth(1);
  p->set_method("lab");
  profile.mutable_metadata()->set_site_depth(1);
  for (int i = 2; i < argc; i += 2) {
    const std::string opt = argv[i];
    if (i + 1 >= argc) Fail(opt + " needs a value");
    const std::string value = argv[i + 1];
    if (opt == "--keys") {
      std::ifstream in(value);
      if (!in) Fail("cannot read " + value);
      for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::string tag, site, module, build_id, offset;
        if (!(words >> tag >> site >> module >> build_id >> offset) || tag != "key") continue;
        auto* s = profile.add_sites();
        s->set_id(profile.sites_size());
        auto* loc = s->add_stack();
        loc->set_module(module);
        loc->set_build_id(HexToBytes(build_id));
        loc->set_offset(std::stoull(offset, nullptr, 0));
        sites[site] = s;
      }
    } else if (opt == "--tier") {
      const auto [name, where] = Split(value, '=');
      auto* tier = profile.add_tiers();
      tier->set_name(name);
      tier->set_policy("bind");
      const auto colon = where.find(':');
      tier->add_nodes(std::stoul(where.substr(0, colon)));
      if (colon != std::string::npos)
        tier->set_capacity_bytes(std::stoull(where.substr(colon + 1)));
    } else if (opt == "--plan") {
      const auto [site, tier] = Split(value, '=');
      plan[site] = tier;
    } else if (opt == "--default") {
      p->set_default_tier(value);
    } else {
      Fail("unknown option " + opt);
    }
  }
  for (const auto& [site, tier] : plan) {
    if (!sites.count(site)) Fail("--plan names site '" + site + "' with no key");
    auto* a = p->add_assignments();
    a->set_site_id(sites[site]->id());
    a->set_tier(tier);
  }
  tierscope::formats::WriteProfile(out, profile);
  return 0;
}
