#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

#include <cstdlib>

#include "tierscope/analyzer/symbolize.h"

#include "symbolize/elf_module.h"

namespace tierscope::analyzer {

std::string Demangle(const char* name) {
  if (name == nullptr) return {};
  int status = 0;
  char* out = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (status != 0 || out == nullptr) return name;
  std::string result = out;
  std::free(out);
  return result;
}

Symbolizer::Symbolizer(SymbolizeOptions options) : options_(std::move(options)) {
  for (const auto& d : options_.debug_dirs) {
    if (!debug_path_.empty()) debug_path_ += ":";
    debug_path_ += d;
  }
  if (debug_path_.empty()) debug_path_ = kDefaultDebugPath;
}

Symbolizer::~Symbolizer() = default;

ElfModule* Symbolizer::Open(const std::string& path) {
  auto [it, added] = modules_.emplace(path, nullptr);
  if (added) it->second = ElfModule::Open(path, options_.sysroot + path, debug_path_.c_str());
  return it->second.get();
}

namespace {

std::string DieName(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  const char* name = nullptr;
  if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) ||
      dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr)) {
    name = dwarf_formstring(&attr);
  }
  if (name == nullptr) name = dwarf_diename(die);
  return Demangle(name);
}

}  // namespace

bool Symbolizer::Symbolize(profile::Location* loc, bool return_address) {
  if (loc->module().empty()) return false;
  const uint64_t address = return_address && loc->offset() > 0 ? loc->offset() - 1 : loc->offset();
  auto key = std::make_pair(loc->module(), address);
  auto cached = cache_.find(key);
  if (cached == cache_.end()) {
    std::vector<profile::SourceLine> lines;
    ElfModule* m = Open(loc->module());
    // A file rebuilt since the recording: its names would be another build's, given silently.
    if (m != nullptr && !loc->build_id().empty() && !m->build_id().empty() &&
        loc->build_id() != m->build_id()) {
      other_builds_.insert(loc->module());
      m = nullptr;
    }
    if (m != nullptr) {
      // Innermost first: the inlined chain from DWARF scopes, each frame's call site giving the
      // line of the frame outside it.
      Dwarf_Addr bias = 0;
      Dwarf_Die* cu = dwfl_module_addrdie(m->module(), address, &bias);
      std::string file;
      int line = 0;
      if (Dwfl_Line* l = dwfl_module_getsrc(m->module(), address)) {
        const char* f = dwfl_lineinfo(l, nullptr, &line, nullptr, nullptr, nullptr);
        if (f) file = f;
      }
      Dwarf_Die* scopes = nullptr;
      const int n = cu ? dwarf_getscopes(cu, address - bias, &scopes) : 0;
      for (int i = 0; i < n; ++i) {
        const int tag = dwarf_tag(&scopes[i]);
        if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram) continue;
        profile::SourceLine sl;
        sl.set_function(DieName(&scopes[i]));
        sl.set_file(file);
        sl.set_line(static_cast<uint32_t>(line));
        lines.push_back(sl);
        if (tag == DW_TAG_subprogram) break;
        // The caller's position is where this inlined copy was called from.
        Dwarf_Attribute attr;
        Dwarf_Word value = 0;
        if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &attr), &value) == 0) {
          line = static_cast<int>(value);
        }
        if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &attr), &value) == 0) {
          Dwarf_Files* files = nullptr;
          if (dwarf_getsrcfiles(cu, &files, nullptr) == 0) {
            if (const char* f = dwarf_filesrc(files, value, nullptr, nullptr)) file = f;
          }
        }
      }
      free(scopes);
      if (lines.empty()) {
        // No DWARF: the ELF symbol table still names the function.
        const char* name = dwfl_module_addrname(m->module(), address);
        if (name) {
          // Without a DWARF scope the nearest line-table row may belong to another function:
          // name the function only.
          profile::SourceLine sl;
          sl.set_function(Demangle(name));
          lines.push_back(sl);
        }
      }
    }
    cached = cache_.emplace(key, std::move(lines)).first;
  }
  loc->clear_lines();
  for (const auto& l : cached->second) *loc->add_lines() = l;
  return !cached->second.empty();
}

void Symbolizer::Prepare(const std::vector<profile::Location>& frames, std::stop_token stop) {
  for (profile::Location loc : frames) {
    if (stop.stop_requested()) return;
    Symbolize(&loc);
  }
}

size_t Symbolizer::SymbolizeProfile(profile::ProfileChunk* profile) {
  size_t named = 0;
  for (auto& site : *profile->mutable_sites()) {
    for (auto& loc : *site.mutable_stack()) named += Symbolize(&loc);
  }
  return named;
}

}  // namespace tierscope::analyzer
