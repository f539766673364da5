#include "tierscope/formats/container.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <cstring>
#include <random>
#include <stdexcept>
#include <vector>

#include "test_support.h"

namespace tierscope::formats {
namespace {

using testing::ReadBytes;
using testing::TempDir;
using testing::WriteBytes;

std::vector<std::string> SamplePayloads() {
  std::vector<std::string> payloads;
  payloads.push_back("");  // an empty message is a valid chunk
  payloads.push_back("first chunk");
  std::string big;
  for (int i = 0; i < 100000; ++i) big += static_cast<char>((i * 7919) >> 3);
  payloads.push_back(big);
  payloads.push_back(std::string(5000, 'x'));
  return payloads;
}

// Writes the payloads and returns the offsets where each chunk ends.
std::vector<uint64_t> WriteChunks(const std::string& path, const std::vector<std::string>& chunks) {
  ContainerWriter writer(path, FileKind::kTrace);
  std::vector<uint64_t> ends;
  for (const auto& c : chunks) {
    ChunkInfo info = writer.Append(c);
    ends.push_back(info.offset + kChunkHeaderSize + info.compressed_size);
  }
  writer.Close();
  return ends;
}

std::vector<std::string> ReadAll(const std::string& path, std::optional<FormatError>* error) {
  ContainerReader reader(path);
  std::vector<std::string> out;
  std::string raw;
  while (reader.Next(&raw)) out.push_back(raw);
  *error = reader.error();
  return out;
}

TEST(Container, RoundTripKeepsEveryChunkInOrder) {
  TempDir dir;
  const auto payloads = SamplePayloads();
  WriteChunks(dir.File("t"), payloads);
  std::optional<FormatError> error;
  EXPECT_EQ(ReadAll(dir.File("t"), &error), payloads);
  EXPECT_FALSE(error.has_value());
}

// The zstd frames of the first chunk's payload in a container file.
int FramesOfFirstChunk(const std::string& file) {
  const std::string bytes = testing::ReadBytes(file);
  const size_t begin = kFileHeaderSize + kChunkHeaderSize;
  uint32_t compressed;
  std::memcpy(&compressed, bytes.data() + kFileHeaderSize, 4);
  int frames = 0;
  for (size_t at = begin; at < begin + compressed; ++frames) {
    const size_t n = ZSTD_findFrameCompressedSize(bytes.data() + at, begin + compressed - at);
    if (ZSTD_isError(n)) return -1;
    at += n;
  }
  return frames;
}

TEST(Container, CutsStartBlocksOfOneFrameThatReadsBack) {
  TempDir dir;
  std::string raw;
  for (int i = 0; i < 200000; ++i) raw += static_cast<char>(i % 97 < 50 ? i % 7 : (i * 31) >> 4);
  const std::vector<size_t> cuts = {1000, 5000, 70000, 199999};
  {
    ContainerWriter writer(dir.File("cut"), FileKind::kTrace);
    writer.Append(raw, cuts);
    writer.Append("second");
    writer.Close();
    ContainerWriter whole(dir.File("whole"), FileKind::kTrace);
    whole.Append(raw);
    whole.Close();
  }
  EXPECT_EQ(FramesOfFirstChunk(dir.File("cut")), 1);
  EXPECT_NE(ReadBytes(dir.File("cut")), ReadBytes(dir.File("whole")));  // the cuts made blocks
  std::optional<FormatError> error;
  EXPECT_EQ(ReadAll(dir.File("cut"), &error), (std::vector<std::string>{raw, "second"}));
  EXPECT_FALSE(error.has_value());
}

TEST(Container, BlocksThatWouldOutgrowTheBoundAreRedoneWithoutCuts) {
  // Incompressible bytes cut every 64: each stored block's header would push the payload past
  // ZSTD_compressBound, which a reader rejects as inconsistent sizes.
  TempDir dir;
  std::mt19937_64 rng(7);
  std::string raw;
  std::vector<size_t> cuts;
  for (int i = 0; i < 65536; ++i) raw += static_cast<char>(rng());
  for (size_t at = 64; at < raw.size(); at += 64) cuts.push_back(at);
  ChunkInfo info;
  {
    ContainerWriter writer(dir.File("t"), FileKind::kTrace);
    info = writer.Append(raw, cuts);
    writer.Close();
  }
  EXPECT_LE(info.compressed_size, ZSTD_compressBound(raw.size()));
  EXPECT_EQ(FramesOfFirstChunk(dir.File("t")), 1);
  std::optional<FormatError> error;
  EXPECT_EQ(ReadAll(dir.File("t"), &error), std::vector<std::string>{raw});
  EXPECT_FALSE(error.has_value());
}

TEST(Container, CutsOutOfOrderOrOutsideThePayloadAreRejected) {
  TempDir dir;
  ContainerWriter writer(dir.File("t"), FileKind::kTrace);
  const std::string raw(10000, 'x');
  for (const std::vector<size_t>& cuts :
       std::vector<std::vector<size_t>>{{0}, {5000, 5000}, {6000, 5000}, {10000}, {20000}}) {
    EXPECT_THROW(writer.Append(raw, cuts), std::invalid_argument) << cuts.front();
  }
  writer.Append(raw, std::vector<size_t>{1, 9999});  // the extremes are fine
  writer.Close();
  std::optional<FormatError> error;
  EXPECT_EQ(ReadAll(dir.File("t"), &error), std::vector<std::string>{raw});
  EXPECT_FALSE(error.has_value());
}

TEST(Container, ReaderReportsKindAndVersion) {
  TempDir dir;
  ContainerWriter(dir.File("p"), FileKind::kProfile).Close();
  ContainerReader reader(dir.File("p"));
  EXPECT_FALSE(reader.error());
  EXPECT_EQ(reader.kind(), FileKind::kProfile);
  EXPECT_EQ(reader.minor_version(), kFormatMinor);
  std::string raw;
  EXPECT_FALSE(reader.Next(&raw));
  EXPECT_FALSE(reader.error());
}

TEST(Container, TruncationAtEveryByteKeepsEveryCompleteChunk) {
  TempDir dir;
  const auto payloads = SamplePayloads();
  const auto ends = WriteChunks(dir.File("full"), payloads);
  const std::string bytes = ReadBytes(dir.File("full"));
  ASSERT_EQ(ends.back(), bytes.size());

  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    WriteBytes(dir.File("cut"), bytes.substr(0, cut));
    std::optional<FormatError> error;
    auto got = ReadAll(dir.File("cut"), &error);
    size_t complete = 0;
    while (complete < ends.size() && ends[complete] <= cut) ++complete;
    ASSERT_EQ(got.size(), complete) << "cut at " << cut;
    for (size_t i = 0; i < complete; ++i) ASSERT_EQ(got[i], payloads[i]);

    const bool at_boundary = cut == kFileHeaderSize || (complete > 0 && ends[complete - 1] == cut);
    if (cut == 0) {
      ASSERT_TRUE(error && error->kind == FormatError::Kind::kEmpty);
    } else if (cut < kFileHeaderSize) {
      ASSERT_TRUE(error && error->kind == FormatError::Kind::kBadMagic) << cut;
    } else if (at_boundary) {
      ASSERT_FALSE(error) << "cut at chunk boundary " << cut << ": " << error->Message();
    } else {
      ASSERT_TRUE(error) << "cut at " << cut;
      ASSERT_EQ(error->kind, FormatError::Kind::kTruncated) << error->Message();
      // The error points at the chunk that was cut.
      ASSERT_EQ(error->offset, complete ? ends[complete - 1] : kFileHeaderSize);
      ASSERT_NE(error->Message().find(dir.File("cut")), std::string::npos);
    }
  }
}

TEST(Container, EveryCorruptByteIsCaughtOrHarmlessAndEarlierChunksSurvive) {
  TempDir dir;
  const std::vector<std::string> payloads = {"alpha", std::string(3000, 'b'), "gamma delta"};
  const auto ends = WriteChunks(dir.File("full"), payloads);
  const std::string bytes = ReadBytes(dir.File("full"));

  for (size_t pos = kFileHeaderSize; pos < bytes.size(); ++pos) {
    std::string damaged = bytes;
    damaged[pos] ^= 0x5a;
    WriteBytes(dir.File("bad"), damaged);
    std::optional<FormatError> error;
    auto got = ReadAll(dir.File("bad"), &error);
    size_t damaged_chunk = 0;
    while (ends[damaged_chunk] <= pos) ++damaged_chunk;
    // Chunks before the damage are intact, the damaged one is never returned altered.
    ASSERT_GE(got.size(), damaged_chunk) << pos;
    for (size_t i = 0; i < got.size(); ++i) {
      if (i == damaged_chunk) {
        ASSERT_EQ(got[i], payloads[i]) << "damage at byte " << pos << " went unnoticed";
      } else {
        ASSERT_EQ(got[i], payloads[i]);
      }
    }
    ASSERT_TRUE(error) << "damage at byte " << pos << " was not reported";
    ASSERT_TRUE(error->kind == FormatError::Kind::kCorrupt ||
                error->kind == FormatError::Kind::kTruncated)
        << error->Message();
  }
}

TEST(Container, WrongMagicIsRejected) {
  TempDir dir;
  WriteBytes(dir.File("m"), "NOTATIERSCOPEFILE....");
  ContainerReader reader(dir.File("m"));
  ASSERT_TRUE(reader.error());
  EXPECT_EQ(reader.error()->kind, FormatError::Kind::kBadMagic);
  EXPECT_EQ(reader.error()->Message(),
            dir.File("m") + ": byte 0: not a tierscope file (bad magic)");
}

TEST(Container, NewerMajorVersionIsRejectedWithBothVersions) {
  TempDir dir;
  WriteChunks(dir.File("v"), {"x"});
  std::string bytes = ReadBytes(dir.File("v"));
  bytes[8] = static_cast<char>(kFormatMajor + 1);
  WriteBytes(dir.File("v"), bytes);
  ContainerReader reader(dir.File("v"));
  ASSERT_TRUE(reader.error());
  EXPECT_EQ(reader.error()->kind, FormatError::Kind::kBadVersion);
  EXPECT_NE(reader.error()->what.find("version 3.0 is not supported"), std::string::npos);
  EXPECT_NE(reader.error()->what.find("reads 1.x to 2.x"), std::string::npos);
}

TEST(Container, OlderReadableMajorVersionIsRead) {
  TempDir dir;
  WriteChunks(dir.File("v1"), {"x", "y"});
  std::string bytes = ReadBytes(dir.File("v1"));
  bytes[8] = static_cast<char>(kOldestReadableMajor);
  WriteBytes(dir.File("v1"), bytes);
  ContainerReader reader(dir.File("v1"));
  ASSERT_FALSE(reader.error());
  EXPECT_EQ(reader.major_version(), kOldestReadableMajor);
  std::string chunk;
  EXPECT_TRUE(reader.Next(&chunk));
  EXPECT_EQ(chunk, "x");
}

TEST(Container, UnknownKindIsRejected) {
  TempDir dir;
  WriteChunks(dir.File("k"), {"x"});
  std::string bytes = ReadBytes(dir.File("k"));
  bytes[12] = 9;
  WriteBytes(dir.File("k"), bytes);
  ContainerReader reader(dir.File("k"));
  ASSERT_TRUE(reader.error());
  EXPECT_EQ(reader.error()->kind, FormatError::Kind::kWrongKind);
}

TEST(Container, EmptyFileAndZeroFileAreErrorsNotCrashes) {
  TempDir dir;
  WriteBytes(dir.File("empty"), "");
  ContainerReader empty(dir.File("empty"));
  ASSERT_TRUE(empty.error());
  EXPECT_EQ(empty.error()->kind, FormatError::Kind::kEmpty);

  WriteBytes(dir.File("zeros"), std::string(1 << 20, '\0'));
  ContainerReader zeros(dir.File("zeros"));
  ASSERT_TRUE(zeros.error());
  EXPECT_EQ(zeros.error()->kind, FormatError::Kind::kBadMagic);
}

// A well-formed chunk header with the given sizes, followed by `tail`.
std::string SealedChunk(uint32_t compressed, uint32_t raw, const std::string& tail) {
  unsigned char h[kChunkHeaderSize];
  for (int i = 0; i < 4; ++i) {
    h[i] = (compressed >> (8 * i)) & 0xff;
    h[4 + i] = (raw >> (8 * i)) & 0xff;
  }
  const uint32_t check = ChunkHeaderCheck(h);
  for (int i = 0; i < 4; ++i) h[8 + i] = (check >> (8 * i)) & 0xff;
  return std::string(reinterpret_cast<char*>(h), sizeof h) + tail;
}

std::optional<FormatError> FirstChunkError(const TempDir& dir, const std::string& chunk) {
  ContainerWriter(dir.File("base"), FileKind::kTrace).Close();
  WriteBytes(dir.File("crafted"), ReadBytes(dir.File("base")) + chunk);
  ContainerReader reader(dir.File("crafted"));
  std::string raw;
  EXPECT_FALSE(reader.Next(&raw));
  return reader.error();
}

TEST(Container, ChunkLongerThanTheFileIsATruncationNotAnAllocation) {
  TempDir dir;
  auto error = FirstChunkError(dir, SealedChunk(0xfffffff0u, 1000, "xyz"));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind, FormatError::Kind::kTruncated);
  EXPECT_EQ(error->offset, kFileHeaderSize);
  EXPECT_NE(error->what.find("only 3 remain"), std::string::npos) << error->what;
}

TEST(Container, ChunkAboveTheRawLimitIsCorrupt) {
  TempDir dir;
  auto error = FirstChunkError(dir, SealedChunk(3, kMaxChunkRawSize + 1, "xyz"));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind, FormatError::Kind::kCorrupt);
  EXPECT_NE(error->what.find("above the limit"), std::string::npos);
}

TEST(Container, InconsistentSizesAreCorrupt) {
  TempDir dir;
  auto error = FirstChunkError(dir, SealedChunk(100, 1, std::string(100, 'q')));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind, FormatError::Kind::kCorrupt);
}

TEST(Container, GarbagePayloadWithValidHeaderIsCorrupt) {
  TempDir dir;
  auto error = FirstChunkError(dir, SealedChunk(10, 10, std::string(10, 'q')));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind, FormatError::Kind::kCorrupt);
  EXPECT_EQ(error->offset, kFileHeaderSize + kChunkHeaderSize);
}

TEST(Container, MissingFileAndDirectoryAreIoErrors) {
  TempDir dir;
  ContainerReader missing(dir.File("nope"));
  ASSERT_TRUE(missing.error());
  EXPECT_EQ(missing.error()->kind, FormatError::Kind::kIo);
  ContainerReader folder(dir.path());
  ASSERT_TRUE(folder.error());
  EXPECT_EQ(folder.error()->kind, FormatError::Kind::kIo);
}

TEST(Container, UnwritablePathThrowsNamingIt) {
  try {
    ContainerWriter writer("/nonexistent-dir/x.trace", FileKind::kTrace);
    FAIL() << "expected an exception";
  } catch (const FormatException& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x.trace"), std::string::npos);
    EXPECT_EQ(e.error().kind, FormatError::Kind::kIo);
  }
}

}  // namespace
}  // namespace tierscope::formats
