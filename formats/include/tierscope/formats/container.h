// The one container every tierscope file uses:
//
//   file   = header chunk*
//   header = "TIERSCOP" u16 major u16 minor u32 kind          (16 bytes, little-endian)
//   chunk  = u32 compressed_size u32 raw_size u32 check payload
//   check  = XXH32 of the first 8 bytes of the chunk header (tells a corrupt length from a short
//            file)
//   payload= one zstd frame with content checksum, holding one serialized protobuf message (a
//            trace chunk's frame starts a new block at each of its columns: block_cuts.h)
//
// A chunk is written with a single write(2) after it is complete, so a crash loses at most the
// chunk being written. Readers keep every complete chunk before a damaged one.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tierscope::formats {

enum class FileKind : uint32_t { kTrace = 1, kProfile = 2 };

const char* FileKindName(FileKind kind);

// 2: alloc batches with address back-references and a time unit (trace.proto AllocBatch), which
// a 1.x reader would decode to wrong addresses and times. 1.x files still read.
inline constexpr uint16_t kFormatMajor = 2;
inline constexpr uint16_t kFormatMinor = 0;
inline constexpr uint16_t kOldestReadableMajor = 1;
inline constexpr size_t kFileHeaderSize = 16;
inline constexpr size_t kChunkHeaderSize = 12;
// No chunk may inflate beyond this: it bounds what a reader allocates for a hostile file.
inline constexpr uint32_t kMaxChunkRawSize = 256u << 20;

// A problem with a file, always tied to where it was found.
struct FormatError {
  enum class Kind { kIo, kBadMagic, kBadVersion, kWrongKind, kTruncated, kCorrupt, kEmpty };
  Kind kind;
  std::string file;
  uint64_t offset = 0;
  std::string what;

  // One line: "FILE: byte OFFSET: WHAT".
  std::string Message() const;
  // Truncation leaves every earlier chunk usable: callers may keep going with what they read.
  bool KeepsEarlierChunks() const { return kind == Kind::kTruncated || kind == Kind::kCorrupt; }
};

// Thrown by the writers and by the convenience readers; the streaming reader returns errors.
class FormatException : public std::runtime_error {
 public:
  explicit FormatException(FormatError error)
      : std::runtime_error(error.Message()), error_(std::move(error)) {}
  const FormatError& error() const { return error_; }

 private:
  FormatError error_;
};

// The `check` field of a chunk header, computed over its first 8 bytes (part of the format).
uint32_t ChunkHeaderCheck(const unsigned char* sizes);

struct ChunkInfo {
  uint64_t offset;  // of the chunk header
  uint32_t compressed_size;
  uint32_t raw_size;
};

// Appends chunks to a file. Not thread-safe; the recorder funnels chunks through one writer thread.
class ContainerWriter {
 public:
  // Creates or truncates `path`. Throws FormatException (kIo) naming the path when it cannot.
  ContainerWriter(const std::string& path, FileKind kind, int compression_level = 3);
  // Takes ownership of an open file descriptor (e.g. opened before a fork, or a pipe).
  ContainerWriter(int fd, std::string name, FileKind kind, int compression_level = 3);
  ~ContainerWriter();
  ContainerWriter(const ContainerWriter&) = delete;
  ContainerWriter& operator=(const ContainerWriter&) = delete;

  // Compresses `raw` and appends it as one chunk. Throws FormatException on I/O failure.
  // `cuts`: ascending offsets in (0, raw.size()) where the frame starts a new block
  // (block_cuts.h); std::invalid_argument for cuts out of order or out of range.
  ChunkInfo Append(std::string_view raw, std::span<const size_t> cuts = {});
  void Close();

  uint64_t bytes_written() const { return offset_; }
  const std::string& name() const { return name_; }
  // For a writer inside another program (the recorder): from now on each write first checks that
  // the descriptor still names the file it opened (device, inode). The program may close every
  // descriptor or dup2 over ours; the number then names one of its own files, which must never be
  // written (nor closed). The file is then reopened by `path` for appending (counted in
  // reopened()); when that is not the same file, the write throws (kIo).
  void PinToFile(std::string path);
  int reopened() const { return reopened_; }

 private:
  void WriteAll(const void* data, size_t size);
  // Compresses raw into scratch_->out after the chunk header, one frame with a block boundary at
  // each cut; returns its size, or SIZE_MAX when it would outgrow ZSTD_compressBound (which a
  // reader checks).
  size_t CompressBlocks(std::string_view raw, std::span<const size_t> cuts);
  bool StillOurFile() const;
  void KeepWritingToOurFile();

  int fd_ = -1;
  std::string name_;
  uint64_t offset_ = 0;
  std::string pinned_path_;  // PinToFile: empty when not pinned
  uint64_t dev_ = 0, ino_ = 0;
  int reopened_ = 0;
  int level_;
  struct Scratch;
  std::unique_ptr<Scratch> scratch_;
};

// Reads chunks one at a time; memory use is bounded by the largest chunk.
class ContainerReader {
 public:
  // Opens and checks the file header. On failure error() is set and Next() returns false.
  explicit ContainerReader(const std::string& path);
  ~ContainerReader();
  ContainerReader(const ContainerReader&) = delete;
  ContainerReader& operator=(const ContainerReader&) = delete;

  // The decompressed payload of the next chunk. False at the end of the file or at the first
  // damaged chunk; then error() says which (no error at a clean end).
  bool Next(std::string* raw, ChunkInfo* info = nullptr);
  // Goes back (or ahead) to the chunk whose header is at `offset`, a ChunkInfo::offset this file
  // gave earlier: a reader can index a file in one pass and decode single chunks later, without
  // holding them. False (error() set) after an earlier error or for an offset outside the file.
  bool Seek(uint64_t offset);

  const std::optional<FormatError>& error() const { return error_; }
  FileKind kind() const { return kind_; }
  uint16_t major_version() const { return major_; }
  uint16_t minor_version() const { return minor_; }
  uint64_t file_size() const { return file_size_; }
  uint64_t offset() const { return offset_; }
  const std::string& path() const { return path_; }

 private:
  bool Fail(FormatError::Kind kind, uint64_t offset, std::string what);
  bool ReadExact(void* data, size_t size, size_t* got);

  std::string path_;
  std::FILE* file_ = nullptr;
  uint64_t file_size_ = 0;
  uint64_t offset_ = 0;
  FileKind kind_ = FileKind::kTrace;
  uint16_t major_ = 0, minor_ = 0;
  std::optional<FormatError> error_;
  struct Scratch;
  std::unique_ptr<Scratch> scratch_;
};

}  // namespace tierscope::formats
