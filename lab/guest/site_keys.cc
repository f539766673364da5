#include "site_keys.h"

#include "tierscope/common/gnu_build_id.h"

#include <elf.h>
#include <link.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstring>

namespace tierscope::lab {
namespace {

struct Search {
  uintptr_t address;
  SiteKey* key;
  bool found;
};

std::string BuildId(const dl_phdr_info* info) {
  std::string hex;
  char byte[3];
  for (unsigned char c : tierscope::FindGnuBuildId(info)) {
    std::snprintf(byte, sizeof(byte), "%02x", c);
    hex += byte;
  }
  return hex;
}

int Visit(dl_phdr_info* info, size_t, void* data) {
  auto* search = static_cast<Search*>(data);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    const uintptr_t start = info->dlpi_addr + ph.p_vaddr;
    if (ph.p_type != PT_LOAD || search->address < start || search->address >= start + ph.p_memsz) {
      continue;
    }
    SiteKey* key = search->key;
    key->offset = search->address - info->dlpi_addr;  // the ELF virtual address
    key->build_id = BuildId(info);
    key->module = info->dlpi_name;
    if (key->module.empty()) {  // the main program
      char path[PATH_MAX];
      const ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
      key->module = n > 0 ? std::string(path, n) : "";
    }
    search->found = true;
    return 1;
  }
  return 0;
}

}  // namespace

bool KeyOfAddress(const void* return_address, SiteKey* key) {
  Search search{reinterpret_cast<uintptr_t>(return_address), key, false};
  dl_iterate_phdr(Visit, &search);
  return search.found;
}

}  // namespace tierscope::lab
