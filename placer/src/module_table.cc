#include "module_table.h"

#include <elf.h>
#include <link.h>
#include <unistd.h>

#include <cstring>

#include "mapped_arrays.h"
#include "tierscope/common/gnu_build_id.h"

namespace tierscope::placer {
namespace {

struct Counters {
  unsigned long long adds = 0, subs = 0;
};

int ReadCounters(dl_phdr_info* info, size_t size, void* data) {
  auto* c = static_cast<Counters*>(data);
  if (size >= offsetof(dl_phdr_info, dlpi_subs) + sizeof(info->dlpi_subs)) {
    c->adds = info->dlpi_adds;
    c->subs = info->dlpi_subs;
  }
  return 1;  // the counters are the same in every entry
}

struct Collect {
  Module* modules;
  size_t count;
  const char* exe;
};

void ReadBuildId(const dl_phdr_info* info, Module* m) {
  const std::string_view id = FindGnuBuildId(info);
  if (id.empty() || id.size() > sizeof(m->build_id)) return;
  std::memcpy(m->build_id, id.data(), id.size());
  m->build_id_len = static_cast<uint8_t>(id.size());
}

int AddModule(dl_phdr_info* info, size_t, void* data) {
  auto* c = static_cast<Collect*>(data);
  if (c->count >= ModuleTable::kCapacity) return 1;
  Module m;
  m.bias = info->dlpi_addr;
  m.start = UINTPTR_MAX;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    const uintptr_t s = info->dlpi_addr + ph.p_vaddr;
    if (s < m.start) m.start = s;
    if (s + ph.p_memsz > m.end) m.end = s + ph.p_memsz;
  }
  if (m.start >= m.end) return 0;
  const char* path = info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name : c->exe;
  std::strncpy(m.path, path, sizeof(m.path) - 1);
  ReadBuildId(info, &m);
  m.identity =
      m.build_id_len
          ? HashBytes(std::string_view(reinterpret_cast<char*>(m.build_id), m.build_id_len))
          : HashBytes(BaseName(m.path));
  c->modules[c->count++] = m;
  return 0;
}

}  // namespace

bool ModuleTable::Init() {
  modules_ = MapArray<Module>(kCapacity);
  const ssize_t n = readlink("/proc/self/exe", exe_, sizeof(exe_) - 1);
  exe_[n > 0 ? n : 0] = '\0';
  return modules_ != nullptr;
}

bool ModuleTable::RefreshIfChanged() {
  if (modules_ == nullptr)
    return false;  // never initialised: the placer runs with default placement
  Counters c;
  dl_iterate_phdr(ReadCounters, &c);
  if (c.adds == adds_ && c.subs == subs_) return false;
  Collect collect{modules_, 0, exe_};
  dl_iterate_phdr(AddModule, &collect);
  count_ = collect.count;
  adds_ = c.adds;
  subs_ = c.subs;
  return true;
}

bool ModuleTable::UnloadedSinceRefresh() const {
  Counters c;
  dl_iterate_phdr(ReadCounters, &c);
  return c.subs != subs_;
}

const Module* ModuleTable::Find(uintptr_t address) const {
  for (size_t i = 0; i < count_; ++i) {
    if (address >= modules_[i].start && address < modules_[i].end) return &modules_[i];
  }
  return nullptr;
}

ModuleOffset ModuleTable::Translate(uintptr_t address) const {
  const Module* m = Find(address);
  if (!m) return {};
  return {m->identity, address - m->bias};
}

}  // namespace tierscope::placer
