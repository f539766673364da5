// The AllocBatch columns: address back-references, the time unit, and what a damaged or an older
// batch reads as.
#include "tierscope/formats/alloc_columns.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace tierscope::formats {
namespace {

std::vector<AllocEvent> Decode(const trace::AllocBatch& batch, std::string* error = nullptr) {
  AllocBatchCursor cursor(batch);
  std::vector<AllocEvent> out;
  AllocEvent e;
  while (cursor.Next(&e)) out.push_back(e);
  if (error != nullptr) *error = cursor.error();
  return out;
}

// A thread that keeps a ring of live blocks, frees a random one and allocates in its place,
// with glibc-like reuse: a freed address comes back soon for the next allocation.
std::vector<AllocEvent> RingWorkload(int events, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> ring(512), free_list;
  uint64_t top = 0x7f0000000000, t = 1'000'000;
  std::vector<AllocEvent> out;
  for (auto& slot : ring) {
    slot = top += 64;
    out.push_back({t += 100, trace::MALLOC, slot, 48, 1});
  }
  while (static_cast<int>(out.size()) < events) {
    uint64_t& slot = ring[rng() % ring.size()];
    out.push_back({t += rng() % 500, trace::FREE, slot, 0, 0});
    free_list.push_back(slot);
    if (rng() % 4 == 0 || free_list.empty()) {
      slot = top += 64;  // fresh memory
    } else {
      slot = free_list.back();
      free_list.pop_back();
    }
    out.push_back({t += rng() % 500, trace::NEW, slot, 16 + rng() % 4000, 2});
  }
  return out;
}

TEST(AllocColumns, BackReferencesDecodeToTheAddressesThatWentIn) {
  const auto events = RingWorkload(20000, 7);
  trace::AllocBatch batch;
  AllocBatchBuilder builder(&batch);
  for (const auto& e : events) builder.Add(e);
  const auto got = Decode(batch);
  ASSERT_EQ(got.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ(got[i].address, events[i].address) << "event " << i;
    ASSERT_EQ(got[i].kind, events[i].kind);
    ASSERT_EQ(got[i].time_ns, events[i].time_ns);
    ASSERT_EQ(got[i].size, events[i].size);
    ASSERT_EQ(got[i].stack_id, events[i].stack_id);
  }
  // Every free of a block allocated within the window is a reference, so explicit addresses are
  // a minority: the point of the column.
  EXPECT_EQ(batch.address_ref_size(), static_cast<int>(events.size()));
  EXPECT_LT(batch.address_delta_size(), static_cast<int>(events.size()) / 3);
}

TEST(AllocColumns, ReferencesNeverReachPastTheWindow) {
  // 3 * window allocations, then their frees oldest first: the early ones are too far back.
  const uint32_t n = 3 * kAddressRefWindow;
  trace::AllocBatch batch;
  AllocBatchBuilder builder(&batch);
  std::vector<AllocEvent> events;
  for (uint32_t i = 0; i < n; ++i) events.push_back({i, trace::MALLOC, 0x1000 + 16 * i, 8, 1});
  for (uint32_t i = 0; i < n; ++i) events.push_back({n + i, trace::FREE, 0x1000 + 16 * i, 0, 0});
  for (const auto& e : events) builder.Add(e);
  for (int i = 0; i < batch.address_ref_size(); ++i) {
    ASSERT_LE(batch.address_ref(i), kAddressRefWindow);
  }
  const auto got = Decode(batch);
  ASSERT_EQ(got.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) ASSERT_EQ(got[i].address, events[i].address);
}

TEST(AllocColumns, ResetStartsABatchThatDoesNotReferToTheLastOne) {
  trace::AllocBatch first, second;
  AllocBatchBuilder builder(&first);
  builder.Add({10, trace::MALLOC, 0x5000, 8, 1});
  builder.Reset(&second);
  builder.Add({20, trace::FREE, 0x5000, 0, 0});
  EXPECT_EQ(second.address_ref(0), 0u);
  const auto got = Decode(second);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].address, 0x5000u);
  EXPECT_EQ(got[0].time_ns, 20u);
}

TEST(AllocColumns, TimesAreKeptToTheUnitRoundedDown) {
  trace::AllocBatch batch;
  AllocBatchBuilder builder(&batch, 64);
  builder.Add({1000, trace::MALLOC, 0x10, 8, 1});
  builder.Add({1063, trace::FREE, 0x10, 0, 0});
  builder.Add({1100, trace::MALLOC, 0x10, 8, 1});
  EXPECT_EQ(batch.time_unit_ns(), 64u);
  const auto got = Decode(batch);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].time_ns, 960u);
  EXPECT_EQ(got[1].time_ns, 1024u);
  EXPECT_EQ(got[2].time_ns, 1088u);
}

TEST(AllocColumns, ABatchWithoutReferencesOrUnitReadsAsBefore) {
  // Written by hand the way traces were before address_ref and time_unit_ns existed.
  trace::AllocBatch batch;
  batch.set_first_time_ns(500);
  for (auto [dt, kind, da] :
       {std::tuple{0, trace::MALLOC, 0x1000}, {7, trace::FREE, 0}, {3, trace::MALLOC, 0x40}}) {
    batch.add_time_delta_ns(dt);
    batch.add_kind(kind);
    batch.add_address_delta(da);
    if (KindIsAllocation(kind)) {
      batch.add_size(32);
      batch.add_stack_id(9);
    }
  }
  const auto got = Decode(batch);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1].time_ns, 507u);
  EXPECT_EQ(got[1].address, 0x1000u);
  EXPECT_EQ(got[2].time_ns, 510u);
  EXPECT_EQ(got[2].address, 0x1040u);
}

TEST(AllocColumns, DamagedReferencesAreErrorsNotReads) {
  trace::AllocBatch batch;
  AllocBatchBuilder builder(&batch);
  builder.Add({1, trace::MALLOC, 0x10, 8, 1});
  builder.Add({2, trace::FREE, 0x10, 0, 0});
  ASSERT_EQ(batch.address_ref(1), 1u);

  trace::AllocBatch too_far = batch;
  too_far.set_address_ref(1, 2);
  std::string error;
  EXPECT_EQ(Decode(too_far, &error).size(), 1u);
  EXPECT_EQ(error, "alloc batch address reference points before its batch");

  trace::AllocBatch huge = batch;
  huge.set_address_ref(1, 0xffffffff);
  EXPECT_EQ(Decode(huge, &error).size(), 1u);
  EXPECT_EQ(error, "alloc batch address reference points before its batch");

  trace::AllocBatch no_delta = batch;
  no_delta.set_address_ref(1, 0);  // says "explicit", but the delta column has only one entry
  EXPECT_EQ(Decode(no_delta, &error).size(), 1u);
  EXPECT_EQ(error, "alloc batch address column is short");

  trace::AllocBatch unknown = batch;
  unknown.set_kind(1, trace::EVENT_UNKNOWN);
  EXPECT_EQ(Decode(unknown, &error).size(), 1u);
  EXPECT_EQ(error, "alloc batch address reference on an unknown event");

  trace::AllocBatch short_refs = batch;
  short_refs.mutable_address_ref()->RemoveLast();
  EXPECT_EQ(Decode(short_refs, &error).size(), 0u);
  EXPECT_EQ(error, "alloc batch columns have different lengths");
}

}  // namespace
}  // namespace tierscope::formats
