#include "trace_facts.h"

#include <sstream>

#include "tierscope/formats/alloc_columns.h"
#include "tierscope/formats/trace_io.h"

namespace tierscope::testing {
namespace {

bool InSegments(const trace::Module& m, uint64_t address) {
  for (const auto& s : m.segments()) {
    if (address >= s.start() && address < s.end()) return true;
  }
  return false;
}

}  // namespace

TraceFacts ReadTraceFacts(const std::string& path, const std::vector<std::string>& modules) {
  TraceFacts f;
  try {
    formats::TraceReader reader(path);
    trace::TraceChunk chunk;
    std::vector<std::pair<uint32_t, uint64_t>> first_frames;  // (stack id, count) per alloc
    std::map<uint32_t, uint64_t> allocs_by_stack;
    std::map<uint32_t, uint64_t> last_time;  // per thread
    while (reader.Next(&chunk)) {
      if (chunk.has_header()) {
        f.has_header = true;
        f.header = chunk.header();
      }
      for (const auto& m : chunk.module_maps()) f.module_maps.push_back(m);
      for (const auto& s : chunk.stacks()) {
        f.stacks[s.id()] = {s.frames().begin(), s.frames().end()};
      }
      for (const auto& t : chunk.threads()) f.threads[t.tid()] = t;
      std::set<uint32_t> tids_in_chunk;
      for (const auto& batch : chunk.allocs()) {
        formats::AllocBatchCursor cursor(batch);
        formats::AllocEvent e;
        f.tids_with_events.insert(batch.tid());
        if (!tids_in_chunk.insert(batch.tid()).second) ++f.chunks_with_a_thread_twice;
        bool first = true;
        while (cursor.Next(&e)) {
          if (first && e.time_ns < last_time[batch.tid()]) ++f.batches_going_back_in_time;
          first = false;
          last_time[batch.tid()] = e.time_ns;
          ++f.events[e.kind];
          ++f.total_events;
          if (formats::KindIsAllocation(e.kind)) {
            if (e.stack_id != 0 && f.stacks.count(e.stack_id) == 0 && f.error.empty()) {
              f.error = "stack " + std::to_string(e.stack_id) + " used before it was written";
            }
            ++allocs_by_stack[e.stack_id * 64 + e.kind];
          }
        }
        if (!cursor.error().empty()) f.error = cursor.error();
      }
      if (chunk.has_counters()) f.counters = chunk.counters();
      if (chunk.has_footer()) {
        f.has_footer = true;
        f.footer = chunk.footer();
      }
    }
    if (reader.error() && f.error.empty()) f.error = reader.error()->Message();
    // Attribute frames[0] to modules.
    const trace::Module* exe = nullptr;
    if (!f.module_maps.empty() && f.module_maps[0].modules_size() > 0) {
      exe = &f.module_maps[0].modules(0);
    }
    for (const auto& [key, n] : allocs_by_stack) {
      const uint32_t id = static_cast<uint32_t>(key / 64);
      const auto kind = static_cast<trace::EventKind>(key % 64);
      auto it = f.stacks.find(id);
      if (it == f.stacks.end() || it->second.empty()) continue;
      const uint64_t pc = it->second[0];
      if (exe != nullptr && InSegments(*exe, pc)) f.events_in_exe[kind] += n;
      for (const auto& name : modules) {
        bool hit = false;
        for (const auto& map : f.module_maps) {
          for (const auto& m : map.modules()) {
            if (m.path().find(name) != std::string::npos && InSegments(m, pc)) hit = true;
          }
        }
        if (hit) f.in_module_[name] += n;
      }
    }
  } catch (const std::exception& e) {
    f.error = e.what();
  }
  return f;
}

std::vector<EventAt> AllocEventsAt(const std::string& path, uint64_t address) {
  std::vector<EventAt> found;
  formats::TraceReader reader(path);
  trace::TraceChunk chunk;
  while (reader.Next(&chunk)) {
    for (const auto& batch : chunk.allocs()) {
      formats::AllocBatchCursor cursor(batch);
      formats::AllocEvent e;
      while (cursor.Next(&e)) {
        if (e.address == address) found.push_back({batch.tid(), e});
      }
    }
  }
  return found;
}

std::map<std::string, uint64_t> ParseExampleCounts(const std::string& err) {
  std::map<std::string, uint64_t> counts;
  const auto at = err.find(" counts: ");
  if (at == std::string::npos) return counts;
  std::istringstream in(err.substr(at + 9, err.find('\n', at) - at - 9));
  std::string item;
  while (in >> item) {
    const auto eq = item.find('=');
    if (eq != std::string::npos) counts[item.substr(0, eq)] = std::stoull(item.substr(eq + 1));
  }
  return counts;
}

}  // namespace tierscope::testing
