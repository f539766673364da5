#include "symbolize/allocator_code.h"

#include <gelf.h>

#include <algorithm>
#include <set>

#include "symbolize/elf_module.h"

namespace tierscope::analyzer {
namespace {

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool StartsWith(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

// Libraries that are an allocator through and through.
bool IsAllocatorLibrary(const std::string& base) {
  return StartsWith(base, "libjemalloc.so") || StartsWith(base, "libtcmalloc") ||
         StartsWith(base, "libmimalloc");
}

}  // namespace

bool AllocatorCode::IsMallocFunction(std::string name) {
  // GCC's clones: unlink_chunk.constprop.0, _int_free.part.0, ...
  for (const char* suffix : {".constprop.", ".isra.", ".part.", ".cold"}) {
    const size_t at = name.find(suffix);
    if (at != std::string::npos) name.resize(at);
  }
  static const std::set<std::string> kNames = {"malloc",
                                               "free",
                                               "calloc",
                                               "realloc",
                                               "cfree",
                                               "memalign",
                                               "aligned_alloc",
                                               "posix_memalign",
                                               "valloc",
                                               "pvalloc",
                                               "reallocarray",
                                               "sysmalloc",
                                               "systrim",
                                               "unlink_chunk",
                                               "arena_get2",
                                               "arena_get_retry",
                                               "get_free_list",
                                               "reused_arena",
                                               "new_heap",
                                               "alloc_new_heap",
                                               "grow_heap",
                                               "shrink_heap",
                                               "heap_trim",
                                               "munmap_chunk",
                                               "mremap_chunk",
                                               "mtrim",
                                               "musable",
                                               "ptmalloc_init",
                                               "int_mallinfo",
                                               "_mid_memalign",
                                               "__posix_memalign",
                                               "__libc_memalign",
                                               "__libc_valloc",
                                               "__libc_pvalloc",
                                               "__libc_calloc",
                                               "__libc_malloc",
                                               "__libc_free",
                                               "__libc_realloc",
                                               "__libc_reallocarray"};
  return kNames.count(name) > 0 || StartsWith(name, "_int_") || StartsWith(name, "tcache_") ||
         StartsWith(name, "malloc_") || StartsWith(name, "__malloc_");
}

AllocatorCode::AllocatorCode(const std::vector<trace::Module>& modules,
                             const std::string& sysroot) {
  std::set<std::pair<std::string, uint64_t>> seen;
  for (const trace::Module& m : modules) {
    if (!seen.emplace(m.path(), m.load_bias()).second) continue;
    const std::string base = BaseName(m.path());
    if (IsAllocatorLibrary(base)) {
      for (const auto& s : m.segments()) {
        if (s.executable() && s.end() > s.start()) ranges_.push_back({s.start(), s.end()});
      }
    } else if (StartsWith(base, "libc.so")) {
      AddLibcFunctions(m, sysroot);
    }
  }
  std::sort(ranges_.begin(), ranges_.end(),
            [](const Range& a, const Range& b) { return a.start < b.start; });
}

bool AllocatorCode::Contains(uint64_t ip) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), ip,
                             [](uint64_t a, const Range& r) { return a < r.start; });
  return it != ranges_.begin() && ip < std::prev(it)->end;
}

void AllocatorCode::AddLibcFunctions(const trace::Module& libc, const std::string& sysroot) {
  const std::unique_ptr<ElfModule> file =
      ElfModule::Open(libc.path(), sysroot + libc.path(), kDefaultDebugPath);
  // Another build of libc here than in the trace: its addresses would be another build's.
  if (!file || (!libc.build_id().empty() && file->build_id() != libc.build_id())) return;
  Dwfl_Module* module = file->module();
  const int symbols = dwfl_module_getsymtab(module);
  for (int i = 1; i < symbols; ++i) {
    GElf_Sym sym;
    GElf_Addr address = 0;
    const char* name =
        dwfl_module_getsym_info(module, i, &sym, &address, nullptr, nullptr, nullptr);
    if (name == nullptr || GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_size == 0) continue;
    if (!IsMallocFunction(name)) continue;
    ranges_.push_back({address + libc.load_bias(), address + sym.st_size + libc.load_bias()});
  }
}

}  // namespace tierscope::analyzer
