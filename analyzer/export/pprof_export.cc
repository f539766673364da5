#include <map>
#include <tuple>

#include "tierscope/analyzer/export.h"

namespace tierscope::analyzer {
namespace {

class StringTable {
 public:
  explicit StringTable(perftools::profiles::Profile* p) : p_(p) { Get(""); }
  int64_t Get(const std::string& s) {
    auto [it, added] = index_.emplace(s, p_->string_table_size());
    if (added) p_->add_string_table(s);
    return it->second;
  }

 private:
  perftools::profiles::Profile* p_;
  std::map<std::string, int64_t> index_;
};

}  // namespace

perftools::profiles::Profile ToPprof(const profile::ProfileChunk& profile) {
  perftools::profiles::Profile out;
  StringTable strings(&out);
  for (auto [type, unit] : {std::pair{"alloc_space", "bytes"},
                            {"peak_live_space", "bytes"},
                            {"load_samples", "count"},
                            {"store_samples", "count"}}) {
    auto* t = out.add_sample_type();
    t->set_type(strings.Get(type));
    t->set_unit(strings.Get(unit));
  }
  out.set_default_sample_type(strings.Get("load_samples"));
  out.set_duration_nanos(static_cast<int64_t>(profile.metadata().duration_ns()));
  if (profile.metadata().runs_size() > 0) {
    out.set_time_nanos(static_cast<int64_t>(profile.metadata().runs(0).start_realtime_ns()));
  }
  out.add_comment(strings.Get("sampler: " + profile.metadata().sampler() + "; " +
                              profile.metadata().weighting()));

  std::map<std::string, uint64_t> mapping_of;  // module path -> mapping id
  std::map<std::pair<std::string, uint64_t>, uint64_t> location_of;
  std::map<std::tuple<std::string, std::string>, uint64_t> function_of;
  for (const auto& site : profile.sites()) {
    auto* sample = out.add_sample();
    for (const auto& loc : site.stack()) {
      auto key = std::make_pair(loc.module(), loc.offset());
      auto found = location_of.find(key);
      if (found == location_of.end()) {
        auto [m, new_mapping] = mapping_of.emplace(loc.module(), mapping_of.size() + 1);
        if (new_mapping) {
          auto* mapping = out.add_mapping();
          mapping->set_id(m->second);
          mapping->set_filename(strings.Get(loc.module()));
          static const char* hex = "0123456789abcdef";
          std::string build_id;
          for (unsigned char c : loc.build_id()) {
            build_id += hex[c >> 4];
            build_id += hex[c & 15];
          }
          mapping->set_build_id(strings.Get(build_id));
          mapping->set_memory_limit(UINT64_MAX);  // addresses are ELF offsets: one flat range
          mapping->set_has_functions(loc.lines_size() > 0);
        }
        auto* l = out.add_location();
        l->set_id(out.location_size());
        l->set_mapping_id(m->second);
        l->set_address(loc.offset());
        for (const auto& line : loc.lines()) {
          auto fkey = std::make_tuple(line.function(), line.file());
          auto [f, new_function] = function_of.emplace(fkey, function_of.size() + 1);
          if (new_function) {
            auto* fn = out.add_function();
            fn->set_id(f->second);
            fn->set_name(strings.Get(line.function()));
            fn->set_system_name(fn->name());
            fn->set_filename(strings.Get(line.file()));
          }
          auto* pl = l->add_line();
          pl->set_function_id(f->second);
          pl->set_line(line.line());
        }
        found = location_of.emplace(key, l->id()).first;
      }
      sample->add_location_id(found->second);
    }
    sample->add_value(static_cast<int64_t>(site.bytes()));
    sample->add_value(static_cast<int64_t>(site.peak_live_bytes()));
    sample->add_value(static_cast<int64_t>(site.load_samples()));
    sample->add_value(static_cast<int64_t>(site.store_samples()));
  }
  return out;
}

}  // namespace tierscope::analyzer
