// The sink the access samplers feed (sampling/sample_source.h): their samples become the
// trace's sample batches, their counters the trace's. Samples arrive on the samplers' drain
// thread, never on a program thread.
#include <cstdio>
#include <mutex>

#include "runtime_state.h"
#include "tierscope/formats/sample_columns.h"

namespace tierscope::recorder {
namespace {

class RuntimeSink : public SampleSink {
 public:
  void OnSamples(uint32_t tid, trace::SamplerKind source, const formats::AccessSample* samples,
                 size_t count) override {
    trace::SampleBatch batch;
    batch.set_tid(tid);
    batch.set_source(source);
    bool with_data_source = false;
    for (size_t i = 0; i < count; ++i) with_data_source |= samples[i].data_source != 0;
    formats::SampleBatchBuilder builder(&batch, with_data_source);
    for (size_t i = 0; i < count; ++i) builder.Add(samples[i]);
    builder.Finish();
    std::lock_guard lock(g_state->side_mutex);
    g_state->pending_samples.push_back(std::move(batch));
    auto* c = &g_state->sampler_counters;
    c->set_samples(c->samples() + count);
  }
  void AddCounters(const trace::Counters& delta) override {
    std::lock_guard lock(g_state->side_mutex);
    auto* c = &g_state->sampler_counters;
    c->set_samples_lost(c->samples_lost() + delta.samples_lost());
    c->set_throttle_events(c->throttle_events() + delta.throttle_events());
    c->set_samples_undecoded(c->samples_undecoded() + delta.samples_undecoded());
    for (const auto& [k, v] : delta.undecoded_by_reason())
      (*c->mutable_undecoded_by_reason())[k] += v;
    for (const auto& [k, v] : delta.sampler_errors()) (*c->mutable_sampler_errors())[k] += v;
  }
};
// Constructed (and its destructor registered with atexit) before recording starts.
RuntimeSink g_sink __attribute__((init_priority(102)));

}  // namespace

std::unique_ptr<SampleSource> OpenSampleSource(bool quiet, bool root) {
  SamplingOptions sampling;
  std::string why;
  if (!SamplingOptionsFromEnv(&sampling, &why)) {
    if (!quiet) std::fprintf(stderr, "tierscope: recorder: %s; access sampling off\n", why.c_str());
    return nullptr;
  }
  if (!root) sampling.say_auto_choice = false;  // said by the root, not by each program it runs
  if (sampling.samplers.empty()) return nullptr;
  auto source = CreateSampleSource(sampling, &g_sink, MarkInternalThread, &why, quiet);
  if (source == nullptr && !quiet) {
    std::fprintf(stderr, "tierscope: recorder: %s; recording allocations only\n", why.c_str());
  }
  return source;
}

}  // namespace tierscope::recorder
