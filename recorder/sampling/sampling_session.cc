#include "sampling_session.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "address_decoder.h"
#include "own_code.h"
#include "perf_attr.h"
#include "perf_open.h"
#include "ring_reader.h"
#include "sample_record.h"
#include "sampler_catalogue.h"
#include "tierscope/common/futex_word.h"
#include "tierscope/common/kernel_pages.h"

namespace tierscope::recorder::sampling {
namespace {

constexpr int kBatch = 512;
constexpr int kMaxPeriodShift = 6;  // adaptive mode may stretch the period up to 64x
constexpr int kPollMs = 200;

enum SlotState : int { kFree = 0, kOpening, kActive, kExiting };

// Samples without a data address from PEBS/IBS, and timer samples that caught the recorder's own
// code (own_code.h), next to the decoder's reasons.
constexpr int kNoDataAddress = static_cast<int>(UndecodedReason::kCount);
constexpr int kInRecorder = kNoDataAddress + 1;
constexpr int kReasonSlots = kInRecorder + 1;

struct EventRing {
  int fd = -1;
  void* base = nullptr;
  size_t map_bytes = 0;
  RingView view;
  int source = 0;
  int event = 0;
};

// The slots live in zero-filled pages (Create): all-zero bytes are a free slot, and a slot's
// rings are written when it is opened. Constructed up front, the 4096 slots wrote 1.4 MB at every
// process start, for the one or two threads most programs have.
struct Slot {
  std::atomic<int> state{kFree};
  pid_t tid = 0;
  int nevents = 0;
  EventRing events[kMaxEventsPerSlot];
};
static_assert(kFree == 0 && std::is_trivially_destructible_v<Slot>);

struct UnmapSlots {
  size_t count = 0;
  void operator()(Slot* slots) const { common::UnmapArray(slots, count); }
};

uint64_t NowNs(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return uint64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace

struct SamplingSession::Impl {
  SamplingOptions options;
  SampleSink* sink = nullptr;
  SessionHooks hooks;
  std::vector<SourceDef> sources;
  size_t page_size = 4096;

  std::unique_ptr<Slot[], UnmapSlots> slots;
  size_t nslots = 0;
  std::atomic<size_t> slots_used{0};  // high-water mark
  int wake_fd = -1;
  // The device of the anonymous-inode file system (eventfd, perf events): the program may close
  // every descriptor or dup2 over ours (a daemon's start-up), and a write, read or close through
  // such a number would act on one of its own files (8 bytes of ours at the end of its file;
  // tests/faults, close_fds). Checked before each of them.
  dev_t anon_dev = 0;
  bool Ours(int fd) const {
    struct stat st;
    return fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == anon_dev;
  }
  void Wake() const {
    uint64_t one = 1;
    if (Ours(wake_fd) && write(wake_fd, &one, sizeof one) < 0) {
    }
  }
  void CloseIfOurs(int fd) const {
    if (Ours(fd)) close(fd);
  }
  std::atomic<bool> stop_requested{false};
  std::atomic<bool> degraded{false};
  std::atomic<int> period_shift{0};
  pthread_t drain_thread{};
  bool drain_started = false;
  // Bumped (futex_word.h) by the drain thread as its last action: the exit sleeps on it.
  std::atomic<uint32_t> drain_finished{0};
  bool joined = false;
  bool stopped = false;
  pid_t pid = 0;  // the process that owns the drain thread (a forked child does not)

  // Drain-thread state, allocated at Create.
  std::unique_ptr<AddressDecoder> decoder;
  std::unique_ptr<uint8_t[]> scratch;
  std::unique_ptr<pollfd[]> pollfds;
  std::unique_ptr<int[]> poll_slot;
  formats::AccessSample batch[kBatch];
  int batch_size = 0;
  uint64_t reasons[kReasonSlots] = {};
  uint64_t reasons_flushed[kReasonSlots] = {};
  OwnCode own_code;
  RingStats ring_totals, ring_flushed;
  uint64_t errors_flushed = 0;

  std::atomic<uint64_t> samples{0}, decoded{0}, undecoded{0}, lost{0}, throttles{0};
  std::atomic<uint64_t> threads_opened{0}, open_failures{0}, period_changes{0};
  std::atomic<uint64_t> drain_cpu_ns{0};
  std::atomic<bool> warned_open{false};

  void Notice(const std::string& line) {
    if (hooks.notice)
      hooks.notice(line);
    else
      WarnLine(line);
  }

  uint64_t PeriodFor(const SourceDef& def, const PebsEvent& e) const {
    return def.adaptive ? e.attr.sample_period << period_shift.load(std::memory_order_relaxed)
                        : e.attr.sample_period;
  }

  // Called in program threads: syscalls per thread, no allocation, no lock.
  void Open(pid_t tid) {
    if (degraded.load(std::memory_order_relaxed)) return;
    Slot* slot = nullptr;
    for (size_t i = 0; i < nslots; ++i) {
      int expected = kFree;
      if (slots[i].state.compare_exchange_strong(expected, kOpening, std::memory_order_acquire)) {
        slot = &slots[i];
        size_t used = slots_used.load(std::memory_order_relaxed);
        while (used < i + 1 &&
               !slots_used.compare_exchange_weak(used, i + 1, std::memory_order_relaxed)) {
        }
        break;
      }
    }
    if (slot == nullptr) {
      FailOpen(EMFILE, "too many threads for the sampling slots");
      return;
    }
    slot->tid = tid;
    slot->nevents = 0;
    int leader = -1;
    for (size_t s = 0; s < sources.size(); ++s) {
      const SourceDef& def = sources[s];
      for (size_t e = 0; e < def.events.size(); ++e) {
        perf_event_attr attr = def.events[e].attr;
        attr.sample_period = PeriodFor(def, def.events[e]);
        int fd = PerfEventOpen(attr, tid, def.events[e].group_leader ? -1 : leader);
        if (fd < 0) {
          FailOpen(-fd, KindName(def.kind));
          continue;
        }
        EventRing& ring = slot->events[slot->nevents];
        ring.fd = fd;
        ring.source = static_cast<int>(s);
        ring.event = static_cast<int>(e);
        ring.map_bytes = page_size * (1 + def.data_pages);
        ring.base = mmap(nullptr, ring.map_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (ring.base == MAP_FAILED) {
          FailOpen(errno, "mmap of the perf ring");
          close(fd);
          continue;
        }
        ring.view = MakeRingView(ring.base, page_size, def.data_pages);
        ++slot->nevents;
        leader = def.events[e].group_leader ? fd : -1;
      }
    }
    slot->state.store(kActive, std::memory_order_release);
    threads_opened.fetch_add(1, std::memory_order_relaxed);
    Wake();
  }

  // One line, once per process; later failures are only counted.
  void FailOpen(int err, const char* what) {
    open_failures.fetch_add(1, std::memory_order_relaxed);
    if (warned_open.exchange(true)) return;
    char line[256];
    int n = std::snprintf(line, sizeof line,
                          "tierscope: sampling a new thread failed (%s: %s); it runs unsampled\n",
                          what, strerrordesc_np(err));
    if (n > 0 && write(STDERR_FILENO, line, std::min<size_t>(n, sizeof line - 1)) < 0) {
    }
  }

  void MarkExiting(pid_t tid) {
    size_t used = slots_used.load(std::memory_order_acquire);
    for (size_t i = 0; i < used; ++i) {
      int expected = kActive;
      if (slots[i].tid == tid &&
          slots[i].state.compare_exchange_strong(expected, kExiting, std::memory_order_acq_rel)) {
        Wake();
        return;
      }
    }
  }

  // ---- Drain thread ----

  struct Visitor : RecordVisitor {
    Impl* impl;
    const SourceDef* def;
    const PebsEvent* event;
    pid_t tid;
    void OnSample(const uint8_t* record, size_t size) override {
      impl->OnRecord(*def, *event, tid, record, size);
    }
  };

  void Flush(pid_t tid, const SourceDef& def) {
    if (batch_size == 0) return;
    sink->OnSamples(static_cast<uint32_t>(tid), def.kind, batch, static_cast<size_t>(batch_size));
    batch_size = 0;
  }

  void Undecoded(int reason) {
    ++reasons[reason];
    undecoded.fetch_add(1, std::memory_order_relaxed);
  }

  void OnRecord(const SourceDef& def, const PebsEvent& event, pid_t tid, const uint8_t* record,
                size_t size) {
    samples.fetch_add(1, std::memory_order_relaxed);
    PerfSample s;
    if (!ParsePerfSample(record, size, event.attr.sample_type, event.attr.sample_regs_user, &s)) {
      Undecoded(static_cast<int>(UndecodedReason::kDecodeFailed));
      return;
    }
    formats::AccessSample out;
    out.time_ns = s.time;
    out.ip = s.ip;
    // Weighs the sample by the period it was taken at (a sample already in the ring when the
    // period changed gets the new one: off by at most one drain round).
    if (def.adaptive)
      out.period_shift = static_cast<uint8_t>(period_shift.load(std::memory_order_relaxed));
    switch (def.kind) {
      case trace::SAMPLER_TIMER: {
        if (s.regs_abi == PERF_SAMPLE_REGS_ABI_NONE || s.nregs < kTimerRegCount) {
          Undecoded(static_cast<int>(UndecodedReason::kNoUserRegs));
          return;
        }
        if (own_code.Contains(s.ip)) {
          Undecoded(kInRecorder);
          return;
        }
        DecodedAccess access;
        UndecodedReason reason = decoder->Decode(s.regs, &access);
        if (reason != UndecodedReason::kNone) {
          Undecoded(static_cast<int>(reason));
          return;
        }
        out.ip = access.instruction;
        out.address = access.address;
        out.access = access.is_store ? trace::ACCESS_STORE : trace::ACCESS_LOAD;
        break;
      }
      case trace::SAMPLER_FAULTS:
        out.address = s.addr;
        out.access = trace::ACCESS_FIRST_TOUCH;
        break;
      default:  // PEBS, IBS
        if (!ToMemoryAccess(s, event.name.find("STORES") != std::string::npos, &out)) {
          Undecoded(kNoDataAddress);
          return;
        }
        break;
    }
    decoded.fetch_add(1, std::memory_order_relaxed);
    batch[batch_size++] = out;
    if (batch_size == kBatch) Flush(tid, def);
  }

  void DrainSlot(Slot& slot) {
    for (int i = 0; i < slot.nevents; ++i) {
      EventRing& ring = slot.events[i];
      const SourceDef& def = sources[ring.source];
      Visitor v;
      v.impl = this;
      v.def = &def;
      v.event = &def.events[ring.event];
      v.tid = slot.tid;
      RingStats before = ring_totals;
      DrainRing(ring.view, &v, &ring_totals, scratch.get());
      Flush(slot.tid, def);
      lost.fetch_add(ring_totals.lost - before.lost, std::memory_order_relaxed);
      throttles.fetch_add(ring_totals.throttles - before.throttles, std::memory_order_relaxed);
    }
  }

  void CloseSlot(Slot& slot) {
    DrainSlot(slot);
    for (int i = 0; i < slot.nevents; ++i) {
      munmap(slot.events[i].base, slot.events[i].map_bytes);
      CloseIfOurs(slot.events[i].fd);
    }
    slot.nevents = 0;
    slot.state.store(kFree, std::memory_order_release);
  }

  void FlushCounters() {
    trace::Counters delta;
    bool any = false;
    if (ring_totals.lost != ring_flushed.lost) {
      delta.set_samples_lost(ring_totals.lost - ring_flushed.lost);
      any = true;
    }
    if (ring_totals.throttles != ring_flushed.throttles) {
      delta.set_throttle_events(ring_totals.throttles - ring_flushed.throttles);
      any = true;
    }
    ring_flushed = ring_totals;
    uint64_t undecoded_delta = 0;
    for (int r = 1; r < kReasonSlots; ++r) {
      uint64_t d = reasons[r] - reasons_flushed[r];
      if (d == 0) continue;
      const char* name = r == kNoDataAddress ? "no_data_address"
                         : r == kInRecorder  ? "ip_in_recorder"
                                             : UndecodedReasonName(static_cast<UndecodedReason>(r));
      (*delta.mutable_undecoded_by_reason())[name] = d;
      undecoded_delta += d;
      reasons_flushed[r] = reasons[r];
    }
    if (undecoded_delta) {
      delta.set_samples_undecoded(undecoded_delta);
      any = true;
    }
    uint64_t errors = open_failures.load(std::memory_order_relaxed);
    if (errors != errors_flushed) {
      (*delta.mutable_sampler_errors())["open_failed"] = errors - errors_flushed;
      errors_flushed = errors;
      any = true;
    }
    if (any) sink->AddCounters(delta);
  }

  // Keeps the drain thread's CPU share near the budget by stretching or restoring the period.
  void Adapt(double share) {
    bool any_adaptive = false;
    for (const auto& d : sources) any_adaptive |= d.adaptive;
    if (!any_adaptive || options.cpu_budget <= 0) return;
    int shift = period_shift.load(std::memory_order_relaxed);
    int next = shift;
    if (share > options.cpu_budget && shift < kMaxPeriodShift)
      next = shift + 1;
    else if (share < options.cpu_budget / 4 && shift > 0)
      next = shift - 1;
    if (next == shift) return;
    period_shift.store(next, std::memory_order_relaxed);
    period_changes.fetch_add(1, std::memory_order_relaxed);
    size_t used = slots_used.load(std::memory_order_acquire);
    for (size_t i = 0; i < used; ++i) {
      Slot& slot = slots[i];
      if (slot.state.load(std::memory_order_acquire) != kActive) continue;
      for (int e = 0; e < slot.nevents; ++e) {
        const SourceDef& def = sources[slot.events[e].source];
        if (!def.adaptive) continue;
        uint64_t period = PeriodFor(def, def.events[slot.events[e].event]);
        ioctl(slot.events[e].fd, PERF_EVENT_IOC_PERIOD, &period);
      }
    }
  }

  void DrainLoop() {
    if (hooks.on_drain_thread_start) hooks.on_drain_thread_start();
    uint64_t last_wall = NowNs(CLOCK_MONOTONIC), last_cpu = NowNs(CLOCK_THREAD_CPUTIME_ID);
    const uint64_t start_cpu = last_cpu;
    const int poll_ms =
        static_cast<int>(std::min<uint64_t>(kPollMs, hooks.control_interval_ns / 1000000 + 1));
    while (true) {
      const bool stopping = stop_requested.load(std::memory_order_acquire);
      size_t used = slots_used.load(std::memory_order_acquire);
      nfds_t n = 0;
      pollfds[n++] = {Ours(wake_fd) ? wake_fd : -1, POLLIN, 0};  // -1: ignored by poll
      for (size_t i = 0; i < used; ++i) {
        Slot& slot = slots[i];
        int state = slot.state.load(std::memory_order_acquire);
        if (state == kExiting || (stopping && state == kActive)) {
          CloseSlot(slot);
          continue;
        }
        if (state != kActive) continue;
        for (int e = 0; e < slot.nevents; ++e) {
          poll_slot[n] = static_cast<int>(i);
          pollfds[n++] = {slot.events[e].fd, POLLIN, 0};
        }
      }
      if (stopping) break;
      int ready = poll(pollfds.get(), n, poll_ms);
      if (ready < 0 && errno != EINTR) {
        Degrade("poll failed");
        break;
      }
      if ((pollfds[0].revents & POLLIN) && Ours(wake_fd)) {
        uint64_t v;
        if (read(wake_fd, &v, sizeof v) < 0) {
        }
      }
      // Every active ring is drained each round (checking one is a memory load); a hung-up fd
      // means its thread exited without OnThreadExit: close it.
      for (nfds_t k = 1; k < n; ++k) {
        Slot& slot = slots[poll_slot[k]];
        if (pollfds[k].revents & (POLLHUP | POLLERR)) {
          int expected = kActive;
          slot.state.compare_exchange_strong(expected, kExiting, std::memory_order_acq_rel);
        }
      }
      for (size_t i = 0; i < used; ++i) {
        Slot& slot = slots[i];
        int state = slot.state.load(std::memory_order_acquire);
        if (state == kActive)
          DrainSlot(slot);
        else if (state == kExiting)
          CloseSlot(slot);
      }
      const uint64_t wall = NowNs(CLOCK_MONOTONIC);
      if (wall - last_wall >= hooks.control_interval_ns) {
        const uint64_t cpu = NowNs(CLOCK_THREAD_CPUTIME_ID);
        Adapt(double(cpu - last_cpu) / double(wall - last_wall));
        drain_cpu_ns.store(cpu - start_cpu, std::memory_order_relaxed);
        FlushCounters();
        last_wall = wall;
        last_cpu = cpu;
      }
    }
    drain_cpu_ns.store(NowNs(CLOCK_THREAD_CPUTIME_ID) - start_cpu, std::memory_order_relaxed);
    FlushCounters();
  }

  void Degrade(const char* why) {
    if (degraded.exchange(true)) return;
    Notice(std::string("access sampling stopped (") + why + "); the program continues unsampled");
    size_t used = slots_used.load(std::memory_order_acquire);
    for (size_t i = 0; i < used; ++i) {
      if (slots[i].state.load(std::memory_order_acquire) == kActive) CloseSlot(slots[i]);
    }
  }

  static void* DrainMain(void* arg) {
    auto* impl = static_cast<Impl*>(arg);
    impl->DrainLoop();
    common::Bump(&impl->drain_finished);
    return nullptr;
  }
};

SamplingSession::SamplingSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SamplingSession::~SamplingSession() {
  Stop();
  // A drain thread given up on by StopWithin may still run: it keeps the memory it uses.
  if (impl_ && impl_->drain_started && !impl_->joined && impl_->pid == getpid()) {
    static_cast<void>(impl_.release());
  }
}

std::unique_ptr<SamplingSession> SamplingSession::Create(const SamplingOptions& options,
                                                         SampleSink* sink, SessionHooks hooks,
                                                         std::string* error) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->sink = sink;
  impl->hooks = std::move(hooks);
  impl->page_size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  impl->pid = getpid();
  impl->sources = OpenableSources(
      options, [&](const std::string& line) { impl->Notice(line); }, error);
  if (impl->sources.empty()) return nullptr;

  impl->nslots = impl->hooks.max_threads;
  impl->slots = std::unique_ptr<Slot[], UnmapSlots>(common::MapArray<Slot>(impl->nslots),
                                                    UnmapSlots{impl->nslots});
  if (!impl->slots) {
    *error = std::string("sampling: no memory for the thread slots: ") + std::strerror(errno);
    return nullptr;
  }
  impl->pollfds.reset(new pollfd[impl->nslots * kMaxEventsPerSlot + 1]);
  impl->poll_slot.reset(new int[impl->nslots * kMaxEventsPerSlot + 1]);
  impl->decoder = std::make_unique<AddressDecoder>();
  impl->own_code.Find();
  impl->scratch.reset(new uint8_t[kMaxRecordBytes]);
  impl->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (impl->wake_fd < 0) {
    *error = std::string("sampling: eventfd: ") + std::strerror(errno);
    return nullptr;
  }
  struct stat wake_stat;
  if (fstat(impl->wake_fd, &wake_stat) == 0) impl->anon_dev = wake_stat.st_dev;
  // The drain thread must not receive the program's signals.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(&impl->drain_thread, nullptr, &Impl::DrainMain, impl.get());
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (rc != 0) {
    close(impl->wake_fd);
    *error = std::string("sampling: cannot start the drain thread: ") + std::strerror(rc);
    return nullptr;
  }
  pthread_setname_np(impl->drain_thread, "tierscope-drain");
  impl->drain_started = true;
  return std::unique_ptr<SamplingSession>(new SamplingSession(std::move(impl)));
}

std::vector<trace::SamplerConfig> SamplingSession::configs() const {
  std::vector<trace::SamplerConfig> out;
  for (const auto& d : impl_->sources) out.insert(out.end(), d.configs.begin(), d.configs.end());
  return out;
}

void SamplingSession::OnThreadStart(pid_t tid) {
  impl_->Open(tid);
}

void SamplingSession::OnThreadExit(pid_t tid) {
  impl_->MarkExiting(tid);
}

void SamplingSession::Stop() {
  StopWithin(UINT64_MAX);
}

// TIERSCOPE_SAMPLE_STATS (bench): one line of the session's counters once it has drained. Both
// ways of stopping say it, the bounded wait at exit being the one recorded programs take; that
// one may run in a fatal signal's handler, so the line is written from the stack, unallocated.
void SamplingSession::SayStatsIfAsked() {
  if (std::getenv("TIERSCOPE_SAMPLE_STATS") == nullptr) return;
  const SessionStats s = stats();
  char line[256];
  const int n = std::snprintf(
      line, sizeof line,
      "tierscope: sampling stats: samples=%lu decoded=%lu undecoded=%lu lost=%lu throttles=%lu "
      "threads=%lu drain_cpu_s=%.4f period=%lu\n",
      (unsigned long)s.samples, (unsigned long)s.decoded, (unsigned long)s.undecoded,
      (unsigned long)s.lost, (unsigned long)s.throttles, (unsigned long)s.threads_opened,
      s.drain_cpu_seconds, (unsigned long)s.current_period);
  if (n > 0) (void)!write(STDERR_FILENO, line, std::min<size_t>(size_t(n), sizeof line - 1));
}

bool SamplingSession::StopWithin(uint64_t max_wait_ns) {
  if (!impl_ || impl_->stopped) return !impl_ || !impl_->drain_started || impl_->joined;
  impl_->stopped = true;
  if (getpid() != impl_->pid) {
    // A forked child: the drain thread was not copied, the fds and rings were. Release them.
    size_t used = impl_->slots_used.load();
    for (size_t i = 0; i < used; ++i) {
      Slot& slot = impl_->slots[i];
      for (int e = 0; e < slot.nevents; ++e) {
        munmap(slot.events[e].base, slot.events[e].map_bytes);
        impl_->CloseIfOurs(slot.events[e].fd);
      }
      slot.nevents = 0;
    }
    impl_->CloseIfOurs(impl_->wake_fd);
    impl_->wake_fd = -1;
    return true;
  }
  impl_->stop_requested.store(true, std::memory_order_release);
  if (impl_->drain_started) {
    impl_->Wake();
    if (max_wait_ns != UINT64_MAX) {
      const uint64_t deadline = NowNs(CLOCK_MONOTONIC) + max_wait_ns;
      // A wake ends the sleep at once: a 1 ms poll here cost every sampled process 1 ms.
      while (impl_->drain_finished.load(std::memory_order_acquire) == 0) {
        const uint64_t now = NowNs(CLOCK_MONOTONIC);
        if (now >= deadline) return false;
        common::WaitOn(&impl_->drain_finished, 0,
                       static_cast<long>(std::min<uint64_t>(deadline - now, 100'000'000)));
      }
      // Only the C library's thread exit is left, which can wait for malloc's lock too.
      const uint64_t join_by = NowNs(CLOCK_MONOTONIC) + 100'000'000;
      timespec abs{static_cast<time_t>(join_by / 1'000'000'000),
                   static_cast<long>(join_by % 1'000'000'000)};
      if (pthread_clockjoin_np(impl_->drain_thread, nullptr, CLOCK_MONOTONIC, &abs) != 0) {
        SayStatsIfAsked();
        return true;  // drained and stopped; its memory stays (see the destructor)
      }
    } else {
      pthread_join(impl_->drain_thread, nullptr);
    }
    impl_->joined = true;
  }
  SayStatsIfAsked();
  impl_->CloseIfOurs(impl_->wake_fd);
  impl_->wake_fd = -1;
  return true;
}

SessionStats SamplingSession::stats() const {
  SessionStats s;
  s.samples = impl_->samples.load();
  s.decoded = impl_->decoded.load();
  s.undecoded = impl_->undecoded.load();
  s.lost = impl_->lost.load();
  s.throttles = impl_->throttles.load();
  s.threads_opened = impl_->threads_opened.load();
  s.open_failures = impl_->open_failures.load();
  s.period_changes = impl_->period_changes.load();
  s.drain_cpu_seconds = double(impl_->drain_cpu_ns.load()) / 1e9;
  for (const auto& d : impl_->sources) {
    if (d.kind == trace::SAMPLER_FAULTS) continue;
    s.current_period = d.events.back().attr.sample_period
                       << (d.adaptive ? impl_->period_shift.load() : 0);
  }
  return s;
}

}  // namespace tierscope::recorder::sampling
