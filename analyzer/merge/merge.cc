#include <algorithm>
#include <unordered_map>

#include "sites/site_keyer.h"
#include "tierscope/analyzer/merge.h"

namespace tierscope::analyzer {
namespace {

// Bin i of width `from` goes to the bin of width `to` holding its start.
template <typename T, typename Combine>
void Rebin(google::protobuf::RepeatedField<T>* h, uint64_t from, uint64_t to, Combine combine) {
  if (from == to || from == 0 || to == 0) return;
  std::vector<T> out;
  for (int i = 0; i < h->size(); ++i) {
    const size_t j = static_cast<size_t>((uint64_t(i) * from) / to);
    if (out.size() <= j) out.resize(j + 1, T{});
    out[j] = combine(out[j], h->Get(i));
  }
  h->Clear();
  for (const T& v : out) h->Add(v);
}

template <typename T, typename Combine>
void CombineInto(google::protobuf::RepeatedField<T>* into,
                 const google::protobuf::RepeatedField<T>& other, Combine combine) {
  while (into->size() < other.size()) into->Add(T{});
  for (int i = 0; i < other.size(); ++i) into->Set(i, combine(into->Get(i), other.Get(i)));
}

const auto kSum = [](auto a, auto b) { return a + b; };
const auto kMax = [](auto a, auto b) { return a > b ? a : b; };

void RebinSite(profile::Site* s, uint64_t from, uint64_t to) {
  Rebin(s->mutable_histogram(), from, to, kSum);
  Rebin(s->mutable_live_histogram(), from, to, kMax);
}

std::string JoinUnique(const std::string& a, const std::string& b, char sep) {
  if (a.empty() || a == b) return a.empty() ? b : a;
  std::vector<std::string> parts;
  auto split = [&](const std::string& s) {
    size_t start = 0;
    while (start <= s.size()) {
      size_t end = s.find(sep, start);
      if (end == std::string::npos) end = s.size();
      std::string part = s.substr(start, end - start);
      if (!part.empty() && std::find(parts.begin(), parts.end(), part) == parts.end()) {
        parts.push_back(part);
      }
      start = end + 1;
    }
  };
  split(a);
  split(b);
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : std::string(1, sep)) + p;
  return out;
}

void MergeSite(profile::Site* into, const profile::Site& s) {
  const double bs = into->live_byte_seconds() + s.live_byte_seconds();
  const double heat =
      into->temperature() * into->live_byte_seconds() + s.temperature() * s.live_byte_seconds();
  into->set_allocations(into->allocations() + s.allocations());
  into->set_bytes(into->bytes() + s.bytes());
  if (s.peak_live_bytes() > into->peak_live_bytes() ||
      (s.peak_live_bytes() == into->peak_live_bytes() && s.peak_time_ns() < into->peak_time_ns())) {
    into->set_peak_live_bytes(s.peak_live_bytes());
    into->set_peak_time_ns(s.peak_time_ns());
  }
  into->set_frees(into->frees() + s.frees());
  CombineInto(into->mutable_lifetime_log2_ns(), s.lifetime_log2_ns(), kSum);
  into->set_load_samples(into->load_samples() + s.load_samples());
  into->set_store_samples(into->store_samples() + s.store_samples());
  into->set_other_samples(into->other_samples() + s.other_samples());
  into->set_latency_weight(into->latency_weight() + s.latency_weight());
  into->set_live_byte_seconds(bs);
  into->set_temperature(bs > 0 ? heat / bs : 0);
  CombineInto(into->mutable_histogram(), s.histogram(), kSum);
  CombineInto(into->mutable_live_histogram(), s.live_histogram(), kMax);
  into->set_first_alloc_ns(std::min(into->first_alloc_ns(), s.first_alloc_ns()));
  into->set_last_free_ns(std::max(into->last_free_ns(), s.last_free_ns()));
}

}  // namespace

void MergeInto(profile::ProfileChunk* into, profile::ProfileChunk other) {
  auto* m = into->mutable_metadata();
  const auto& o = other.metadata();
  const bool into_empty = m->runs_size() == 0 && into->sites_size() == 0;
  const uint64_t bin = std::max(m->bin_ns(), o.bin_ns());
  if (bin != m->bin_ns()) {
    for (auto& s : *into->mutable_sites()) RebinSite(&s, m->bin_ns(), bin);
  }
  for (const auto& r : o.runs()) *m->add_runs() = r;
  m->set_sampler(into_empty ? o.sampler() : JoinUnique(m->sampler(), o.sampler(), '+'));
  m->set_weighting(into_empty ? o.weighting() : JoinUnique(m->weighting(), o.weighting(), ';'));
  m->set_site_depth(into_empty ? o.site_depth() : std::min(m->site_depth(), o.site_depth()));
  m->set_bin_ns(bin);
  m->set_duration_ns(std::max(m->duration_ns(), o.duration_ns()));
  m->set_total_samples(m->total_samples() + o.total_samples());
  m->set_heap_samples(m->heap_samples() + o.heap_samples());
  for (const auto& [region, n] : o.samples_by_region())
    (*m->mutable_samples_by_region())[region] += n;
  m->set_alloc_sample_bytes(std::max(m->alloc_sample_bytes(), o.alloc_sample_bytes()));
  if (m->tierscope_version().empty()) m->set_tierscope_version(o.tierscope_version());
  m->set_unknown_frees(m->unknown_frees() + o.unknown_frees());
  m->set_alloc_events(m->alloc_events() + o.alloc_events());
  m->set_free_events(m->free_events() + o.free_events());
  m->set_accesses_per_sample(std::max(m->accesses_per_sample(), o.accesses_per_sample()));

  std::unordered_map<std::string, int> index;
  for (int i = 0; i < into->sites_size(); ++i) index.emplace(LocationKey(into->sites(i), 0), i);
  for (auto& site : *other.mutable_sites()) {
    profile::Site s = std::move(site);
    RebinSite(&s, o.bin_ns(), bin);
    auto [it, added] = index.emplace(LocationKey(s, 0), into->sites_size());
    if (added) {
      s.set_id(into->sites_size() + 1);
      *into->add_sites() = std::move(s);
    } else {
      MergeSite(into->mutable_sites(it->second), s);
    }
  }
  into->clear_plan();
  into->clear_tiers();
}

}  // namespace tierscope::analyzer
