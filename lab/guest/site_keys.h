// The match key of an allocation site as the placer computes it (docs/architecture.md, "Stacks
// and site identity"): the module's build-id and the ELF virtual address of a return address.
#pragma once

#include <string>

namespace tierscope::lab {

struct SiteKey {
  std::string module;    // path of the module holding the return address
  std::string build_id;  // lowercase hex, empty when the module has none
  unsigned long offset = 0;
};

// Key of a return address in this process. False when no loaded module holds it.
bool KeyOfAddress(const void* return_address, SiteKey* key);

}  // namespace tierscope::lab
