// CreateSampleSource: the recorder's plug (sample_source.h) over a SamplingSession.
#include "sample_source.h"

#include "sampling_session.h"

namespace tierscope::recorder {
namespace {

class PerfSampleSource : public SampleSource {
 public:
  bool Open(const SamplingOptions& options, SampleSink* sink, void (*on_drain_thread_start)(),
            std::string* error, bool quiet) {
    sampling::SessionHooks hooks;
    if (on_drain_thread_start != nullptr) hooks.on_drain_thread_start = on_drain_thread_start;
    if (quiet) hooks.notice = [](const std::string&) {};
    session_ = sampling::SamplingSession::Create(options, sink, std::move(hooks), error);
    return session_ != nullptr;
  }
  std::vector<trace::SamplerConfig> configs() const override { return session_->configs(); }
  void OnThreadStart(pid_t tid) override { session_->OnThreadStart(tid); }
  void OnThreadExit(pid_t tid) override { session_->OnThreadExit(tid); }
  void Stop() override { session_->Stop(); }
  bool StopWithin(uint64_t max_wait_ns) override { return session_->StopWithin(max_wait_ns); }

 private:
  std::unique_ptr<sampling::SamplingSession> session_;
};

}  // namespace

std::unique_ptr<SampleSource> CreateSampleSource(const SamplingOptions& options, SampleSink* sink,
                                                 void (*on_drain_thread_start)(),
                                                 std::string* error, bool quiet) {
  auto source = std::make_unique<PerfSampleSource>();
  if (!source->Open(options, sink, on_drain_thread_start, error, quiet)) return nullptr;
  return source;
}

}  // namespace tierscope::recorder
