// CreateSampleSource: the recorder's plug (recorder/runtime/sample_source.h) over a
// SamplingSession. Built into libtierscope-recorder.so only (it calls the runtime's
// MarkInternalThread).
#include "runtime/sample_source.h"

#include "sampling_session.h"

namespace tierscope::recorder {
namespace {

class ForwardingSink : public sampling::Sink {
 public:
  explicit ForwardingSink(SampleSink* sink) : sink_(sink) {}
  void OnSamples(uint32_t tid, trace::SamplerKind source, const formats::AccessSample* samples,
                 size_t count) override {
    sink_->OnSamples(tid, source, samples, count);
  }
  void AddCounters(const trace::Counters& delta) override { sink_->AddCounters(delta); }

 private:
  SampleSink* sink_;
};

class PerfSampleSource : public SampleSource {
 public:
  explicit PerfSampleSource(SampleSink* sink) : sink_(sink) {}
  bool Open(const SamplingOptions& options, std::string* error, bool quiet) {
    sampling::SessionHooks hooks;
    hooks.on_drain_thread_start = [] { MarkInternalThread(); };
    if (quiet) hooks.notice = [](const std::string&) {};
    session_ = sampling::SamplingSession::Create(options, &sink_, std::move(hooks), error);
    return session_ != nullptr;
  }
  std::vector<trace::SamplerConfig> configs() const override { return session_->configs(); }
  void OnThreadStart(pid_t tid) override { session_->OnThreadStart(tid); }
  void OnThreadExit(pid_t tid) override { session_->OnThreadExit(tid); }
  void Stop() override { session_->Stop(); }
  bool StopWithin(uint64_t max_wait_ns) override { return session_->StopWithin(max_wait_ns); }

 private:
  ForwardingSink sink_;
  std::unique_ptr<sampling::SamplingSession> session_;
};

}  // namespace

std::unique_ptr<SampleSource> CreateSampleSource(const SamplingOptions& options, SampleSink* sink,
                                                 std::string* error, bool quiet) {
  auto source = std::make_unique<PerfSampleSource>(sink);
  if (!source->Open(options, error, quiet)) return nullptr;
  return source;
}

}  // namespace tierscope::recorder
