// Module maps: build-ids out of PT_NOTE bytes, and a snapshot of this very process.
#include <gtest/gtest.h>

#include <elf.h>

#include <cstring>

#include "runtime/module_maps.h"

namespace tierscope::recorder {
namespace {

std::string Note(uint32_t type, const std::string& name, const std::string& desc) {
  Elf64_Nhdr h{static_cast<Elf64_Word>(name.size() + 1), static_cast<Elf64_Word>(desc.size()),
               type};
  std::string out(reinterpret_cast<const char*>(&h), sizeof h);
  std::string n = name + '\0';
  n.resize((n.size() + 3) & ~size_t{3}, '\0');
  std::string d = desc;
  d.resize((d.size() + 3) & ~size_t{3}, '\0');
  return out + n + d;
}

TEST(ModuleMaps, FindsTheGnuBuildIdAmongOtherNotes) {
  const std::string id =
      "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14";
  const std::string notes = Note(NT_GNU_ABI_TAG, "GNU", std::string(16, 'a')) +
                            Note(NT_GNU_BUILD_ID, "XYZ", "wrong") +
                            Note(NT_GNU_BUILD_ID, "GNU", id);
  EXPECT_EQ(BuildIdFromNotes(notes), id);
  EXPECT_EQ(BuildIdFromNotes(Note(NT_GNU_ABI_TAG, "GNU", "abcd")), "");
}

TEST(ModuleMaps, TruncatedNotesAreNotReadPastTheirEnd) {
  const std::string note = Note(NT_GNU_BUILD_ID, "GNU", std::string(20, 'x'));
  for (size_t cut = 0; cut < note.size(); ++cut) {
    EXPECT_EQ(BuildIdFromNotes(std::string_view(note).substr(0, cut)), "") << cut;
  }
}

TEST(ModuleMaps, SnapshotHasThisProgramWithItsCode) {
  const trace::ModuleMap map = SnapshotModules(42);
  EXPECT_EQ(map.time_ns(), 42u);
  ASSERT_GT(map.modules_size(), 2);
  const auto here = reinterpret_cast<uint64_t>(&BuildIdFromNotes);  // linked into this test
  bool found = false;
  for (const auto& m : map.modules()) {
    for (const auto& s : m.segments()) {
      if (here >= s.start() && here < s.end()) {
        found = true;
        EXPECT_TRUE(s.executable());
        EXPECT_NE(m.path().find("recorder_unit_test"), std::string::npos) << m.path();
        EXPECT_EQ(m.build_id().size(), 20u);  // Debian's gcc links with --build-id (SHA1)
      }
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace tierscope::recorder
