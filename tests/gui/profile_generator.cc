#include "profile_generator.h"

#include <cmath>
#include <random>
#include <vector>

namespace tierscope::gui::testing {

namespace {

constexpr uint64_t kMiB = 1 << 20;
const char kExe[] = "/usr/lib/tierscope/examples/ts-example-kvcache";
const char kLibc[] = "/lib/x86_64-linux-gnu/libc.so.6";
const char kLibstdcxx[] = "/lib/x86_64-linux-gnu/libstdc++.so.6";

struct FrameSpec {
  const char* module;
  uint64_t offset;
  // Inlined chain, innermost first; empty = unsymbolized.
  std::vector<std::tuple<const char*, const char*, uint32_t>> lines;
};

profile::Location MakeLocation(const FrameSpec& spec) {
  profile::Location loc;
  loc.set_module(spec.module);
  loc.set_offset(spec.offset);
  for (const auto& [function, file, line] : spec.lines) {
    profile::SourceLine* l = loc.add_lines();
    l->set_function(function);
    l->set_file(file);
    l->set_line(line);
  }
  return loc;
}

// The worker-thread and main-thread tails every kvcache stack ends with.
std::vector<FrameSpec> WorkerTail() {
  return {{kExe, 0x4a10, {{"worker", "examples/kvcache.cc", 287}}},
          {kLibstdcxx, 0xd44a3, {{"std::thread::_State_impl::_M_run", "thread.h", 244}}},
          {kLibc, 0x89134, {{"start_thread", "pthread_create.c", 442}}}};
}
std::vector<FrameSpec> MainTail() {
  return {{kExe, 0x5120, {{"main", "examples/kvcache.cc", 351}}},
          {kLibc, 0x271ca, {{"__libc_start_call_main", "libc_start_call_main.h", 58}}}};
}

struct SiteSpec {
  std::vector<FrameSpec> head;  // innermost frames; a tail is appended
  bool on_worker;
  uint64_t allocations, bytes, peak, loads, stores;
  double temperature;
  int lifetime_bucket;        // log2 ns of the typical lifetime; -1 = never freed
  std::vector<double> shape;  // relative activity over the run, stretched to the bins
};

profile::Site MakeSite(uint64_t id, const SiteSpec& spec, int bins) {
  profile::Site site;
  site.set_id(id);
  for (const FrameSpec& f : spec.head) *site.add_stack() = MakeLocation(f);
  for (const FrameSpec& f : spec.on_worker ? WorkerTail() : MainTail())
    *site.add_stack() = MakeLocation(f);
  site.set_allocations(spec.allocations);
  site.set_bytes(spec.bytes);
  site.set_peak_live_bytes(spec.peak);
  site.set_load_samples(spec.loads);
  site.set_store_samples(spec.stores);
  site.set_other_samples(spec.loads / 50);
  site.set_temperature(spec.temperature);
  if (spec.lifetime_bucket >= 0) {
    site.set_frees(spec.allocations);
    for (int i = 0; i <= spec.lifetime_bucket + 2; ++i)
      site.add_lifetime_log2_ns(i < spec.lifetime_bucket - 2 ? 0 : spec.allocations / 5 + 1);
  }
  const uint64_t samples = spec.loads + spec.stores;
  double shape_total = 0;
  for (int b = 0; b < bins; ++b) shape_total += spec.shape[b * spec.shape.size() / bins];
  for (int b = 0; b < bins; ++b)
    site.add_histogram(
        uint32_t(std::llround(samples * spec.shape[b * spec.shape.size() / bins] / shape_total)));
  site.set_live_byte_seconds(double(spec.peak) * 3.0 / double(1 << 30));
  site.set_first_alloc_ns(1'000'000);
  site.set_peak_time_ns(2'000'000'000);
  return site;
}

}  // namespace

profile::ProfileChunk MakeKvcacheProfile() {
  profile::ProfileChunk p;
  constexpr int kBins = 40;
  profile::Metadata* m = p.mutable_metadata();
  profile::Run* run = m->add_runs();
  run->set_program(kExe);
  for (const char* arg : {kExe, "--threads=2", "--ops=2000000"}) run->add_cmdline(arg);
  run->set_hostname("lab-host");
  run->set_pid(41237);
  run->set_duration_ns(4'000'000'000);
  run->set_trace_path("/tmp/kvcache.tstrace");
  m->set_sampler("pebs");
  m->set_weighting("one sample stands for 10007 retired loads or stores (PEBS, precise address)");
  m->set_site_depth(4);
  m->set_bin_ns(100'000'000);
  m->set_duration_ns(4'000'000'000);
  m->set_total_samples(50000);
  m->set_heap_samples(41000);
  (*m->mutable_samples_by_region())["stack"] = 5200;
  (*m->mutable_samples_by_region())["globals"] = 2100;
  (*m->mutable_samples_by_region())["mapping"] = 1200;
  (*m->mutable_samples_by_region())["unknown"] = 500;
  m->set_tierscope_version("0.1.0");

  const std::vector<double> steady = {1, 1, 1, 1};
  const std::vector<double> ramp = {0.2, 0.5, 1, 1, 1, 0.8};
  const std::vector<double> startup = {1, 0.05, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02};
  const std::vector<double> bursts = {0.1, 1, 0.1, 1, 0.1, 1, 0.1, 1};
  const std::vector<SiteSpec> specs = {
      {{{kExe, 0x3a40, {{"kv_alloc_index", "examples/kvcache.cc", 58}}},
        {kExe, 0x3f10, {{"Cache::Cache", "examples/kvcache.cc", 121}}}},
       false,
       1,
       64 * kMiB,
       64 * kMiB,
       26000,
       4000,
       9.5,
       -1,
       steady},
      {{{kExe, 0x3a80, {{"kv_alloc_value", "examples/kvcache.cc", 65}}},
        {kExe,
         0x4210,
         {{"Cache::MakeValue", "examples/kvcache.cc", 140},
          {"Cache::Put", "examples/kvcache.cc", 168}}}},
       true,
       200000,
       800 * kMiB,
       120 * kMiB,
       5200,
       1800,
       0.85,
       20,
       ramp},
      {{{kExe, 0x3ac0, {{"kv_alloc_log", "examples/kvcache.cc", 72}}},
        {kExe, 0x3f60, {{"Cache::Cache", "examples/kvcache.cc", 126}}}},
       false,
       1,
       256 * kMiB,
       256 * kMiB,
       90,
       350,
       0.012,
       -1,
       bursts},
      {{{kExe, 0x3b00, {{"kv_alloc_archive_chunk", "examples/kvcache.cc", 79}}},
        {kExe, 0x4480, {{"Cache::Archive", "examples/kvcache.cc", 201}}}},
       false,
       4096,
       512 * kMiB,
       512 * kMiB,
       400,
       900,
       0.004,
       -1,
       startup},
      {{{kLibstdcxx, 0xa9b10, {{"operator new(unsigned long)", "new_op.cc", 50}}},
        {kExe,
         0x4610,
         {{"std::vector<Slot>::_M_realloc_insert", "stl_vector.h", 1287},
          {"Cache::Rehash", "examples/kvcache.cc", 187}}}},
       false,
       12,
       96 * kMiB,
       48 * kMiB,
       1500,
       1200,
       1.7,
       24,
       startup},
      {{{kLibstdcxx, 0xa9b10, {{"operator new(unsigned long)", "new_op.cc", 50}}},
        {kExe,
         0x47a0,
         {{"std::__cxx11::basic_string::_M_create", "basic_string.tcc", 155},
          {"Cache::FormatKey", "examples/kvcache.cc", 112}}}},
       true,
       2000000,
       64 * kMiB,
       2 * kMiB,
       800,
       700,
       2.4,
       12,
       steady},
      {{{kExe, 0x4900, {{"Accesses::Record", "examples/kvcache.cc", 107}}}},
       true,
       2,
       8 * kMiB,
       8 * kMiB,
       600,
       1400,
       3.1,
       -1,
       steady},
      {{{kExe, 0x4b33, {}}},  // an unsymbolized frame: shown as module+offset
       true,
       64,
       1 * kMiB,
       1 * kMiB,
       20,
       10,
       0.3,
       16,
       bursts},
  };
  for (size_t i = 0; i < specs.size(); ++i) *p.add_sites() = MakeSite(i + 1, specs[i], kBins);

  profile::Tier* dram = p.add_tiers();
  dram->set_name("dram");
  dram->add_nodes(0);
  dram->set_capacity_bytes(96 * kMiB);
  dram->set_latency_ns(92);
  dram->set_policy("bind");
  profile::Tier* cxl = p.add_tiers();
  cxl->set_name("cxl");
  cxl->add_nodes(1);
  cxl->set_latency_ns(265);
  cxl->set_policy("preferred");

  profile::Plan* plan = p.mutable_plan();
  plan->set_default_tier("cxl");
  plan->set_site_depth(4);
  plan->set_method("greedy");
  plan->set_min_size(4096);
  for (uint64_t id : {1, 6, 7}) {  // index, key strings, access records: hot and small
    profile::Assignment* a = plan->add_assignments();
    a->set_site_id(id);
    a->set_tier("dram");
  }
  plan->set_fast_share(0.81);
  plan->set_stall_saved_ns(1.9e9);
  for (auto [name, share, stall] :
       {std::tuple{"first-touch", 0.34, 0.6e9}, std::tuple{"size-threshold", 0.52, 1.1e9},
        std::tuple{"oracle", 0.86, 2.1e9}}) {
    profile::Baseline* b = plan->add_baselines();
    b->set_name(name);
    b->set_fast_share(share);
    b->set_stall_saved_ns(stall);
  }
  return p;
}

profile::ProfileChunk MakeManySitesProfile(int sites, unsigned seed) {
  std::mt19937_64 rng(seed);
  profile::ProfileChunk p;
  constexpr int kBins = 64;
  profile::Metadata* m = p.mutable_metadata();
  profile::Run* run = m->add_runs();
  run->set_program("/usr/bin/bigserver");
  run->set_hostname("lab-host");
  run->set_duration_ns(64'000'000'000);
  m->set_sampler("timer");
  m->set_weighting("one sample per 1 ms of CPU time per thread");
  m->set_bin_ns(1'000'000'000);
  m->set_duration_ns(64'000'000'000);
  std::lognormal_distribution<double> temperature(-2.0, 2.0);
  std::uniform_int_distribution<int> depth(3, 8);
  const int functions = std::max(10, sites / 20);
  std::uniform_int_distribution<int> function(0, functions - 1);
  uint64_t total = 0;
  for (int i = 0; i < sites; ++i) {
    profile::Site* site = p.add_sites();
    site->set_id(i + 1);
    const int frames = depth(rng);
    for (int f = 0; f < frames; ++f) {
      // Outer frames come from a small pool (shared callers), inner ones from a large one.
      const int fn = f == frames - 1 ? 0 : (f >= frames - 3 ? function(rng) % 16 : function(rng));
      profile::Location* loc = site->add_stack();
      loc->set_module(fn % 7 == 0 ? "/usr/lib/libbig.so" : "/usr/bin/bigserver");
      loc->set_offset(0x1000 + fn * 0x40);
      profile::SourceLine* line = loc->add_lines();
      line->set_function(fn == 0 ? "main" : "fn_" + std::to_string(fn));
      line->set_file("src/file_" + std::to_string(fn % 97) + ".cc");
      line->set_line(10 + fn % 500);
    }
    const double t = temperature(rng);
    site->set_temperature(t);
    site->set_allocations(1 + rng() % 1000);
    site->set_bytes(site->allocations() * (16 + rng() % 4096));
    site->set_peak_live_bytes(site->bytes() / (1 + rng() % 4));
    site->set_load_samples(uint64_t(t * 10) + rng() % 5);
    site->set_store_samples(uint64_t(t * 3));
    site->add_lifetime_log2_ns(0);
    site->add_lifetime_log2_ns(site->allocations());
    for (int b = 0; b < kBins; ++b) site->add_histogram(uint32_t(t * (1 + (b + i) % 5)));
    total += site->load_samples() + site->store_samples();
  }
  m->set_total_samples(total + total / 10);
  m->set_heap_samples(total);
  return p;
}

}  // namespace tierscope::gui::testing
