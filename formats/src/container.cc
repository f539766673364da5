#include "tierscope/formats/container.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace tierscope::formats {
namespace {

constexpr char kMagic[8] = {'T', 'I', 'E', 'R', 'S', 'C', 'O', 'P'};

void PutU16(unsigned char* p, uint16_t v) {
  p[0] = v & 0xff;
  p[1] = v >> 8;
}
void PutU32(unsigned char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = (v >> (8 * i)) & 0xff;
}
uint16_t GetU16(const unsigned char* p) {
  return p[0] | (p[1] << 8);
}
uint32_t GetU32(const unsigned char* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

}  // namespace

uint32_t ChunkHeaderCheck(const unsigned char* sizes) {
  return XXH32(sizes, 8, 0x7453636f);
}

const char* FileKindName(FileKind kind) {
  switch (kind) {
    case FileKind::kTrace:
      return "trace";
    case FileKind::kProfile:
      return "profile";
  }
  return "unknown";
}

std::string FormatError::Message() const {
  return file + ": byte " + std::to_string(offset) + ": " + what;
}

// ---------------------------------------------------------------------------------------------

struct ContainerWriter::Scratch {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  // The compressed chunk, sized for ZSTD_compressBound but not initialized: a vector's resize
  // wrote zeros over all of it, and the kernel zeroed every page of it first, where the frame
  // takes a fraction (a 20 MB profile chunk compresses to 0.2 MB).
  std::unique_ptr<unsigned char[]> out;
  size_t capacity = 0;
  unsigned char* Reserve(size_t size) {
    if (size > capacity) {
      out.reset(new unsigned char[size]);  // default-initialized: untouched until written
      capacity = size;
    }
    return out.get();
  }
  ~Scratch() { ZSTD_freeCCtx(cctx); }
};

ContainerWriter::ContainerWriter(const std::string& path, FileKind kind, int compression_level)
    : ContainerWriter(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), path,
                      kind, compression_level) {}

ContainerWriter::ContainerWriter(int fd, std::string name, FileKind kind, int compression_level)
    : fd_(fd), name_(std::move(name)), level_(compression_level), scratch_(new Scratch) {
  if (fd_ < 0) {
    throw FormatException({FormatError::Kind::kIo, name_, 0,
                           std::string("cannot open for writing: ") + std::strerror(errno)});
  }
  ZSTD_CCtx_setParameter(scratch_->cctx, ZSTD_c_compressionLevel, level_);
  ZSTD_CCtx_setParameter(scratch_->cctx, ZSTD_c_checksumFlag, 1);
  unsigned char header[kFileHeaderSize];
  std::memcpy(header, kMagic, 8);
  PutU16(header + 8, kFormatMajor);
  PutU16(header + 10, kFormatMinor);
  PutU32(header + 12, static_cast<uint32_t>(kind));
  WriteAll(header, sizeof header);
}

ContainerWriter::~ContainerWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void ContainerWriter::PinToFile(std::string path) {
  struct stat st;
  if (fd_ < 0 || fstat(fd_, &st) != 0) return;
  pinned_path_ = std::move(path);
  dev_ = st.st_dev;
  ino_ = st.st_ino;
}

bool ContainerWriter::StillOurFile() const {
  struct stat st;
  return fstat(fd_, &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_;
}

void ContainerWriter::KeepWritingToOurFile() {
  if (StillOurFile()) return;
  const int old = fd_;
  fd_ = ::open(pinned_path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ >= 0 && StillOurFile()) {
    ++reopened_;
    return;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  throw FormatException({FormatError::Kind::kIo, name_, offset_,
                         "descriptor " + std::to_string(old) +
                             " was closed or replaced by the program and the file cannot be "
                             "reopened"});
}

void ContainerWriter::Close() {
  // A descriptor the program took over is its own: not ours to close.
  if (fd_ >= 0 && !pinned_path_.empty() && !StillOurFile()) {
    fd_ = -1;
    return;
  }
  if (fd_ >= 0 && ::close(fd_) != 0) {
    fd_ = -1;
    throw FormatException(
        {FormatError::Kind::kIo, name_, offset_, std::string("close: ") + std::strerror(errno)});
  }
  fd_ = -1;
}

ChunkInfo ContainerWriter::Append(std::string_view raw, std::span<const size_t> cuts) {
  if (raw.size() > kMaxChunkRawSize) {
    throw FormatException({FormatError::Kind::kIo, name_, offset_,
                           "chunk of " + std::to_string(raw.size()) + " bytes exceeds the limit"});
  }
  size_t last = 0;
  for (size_t cut : cuts) {
    if (cut <= last || cut >= raw.size()) {
      throw std::invalid_argument("block cuts must ascend within the chunk");
    }
    last = cut;
  }
  size_t n = CompressBlocks(raw, cuts);
  if (n == SIZE_MAX && !cuts.empty()) n = CompressBlocks(raw, {});  // short blocks, incompressible
  if (n == SIZE_MAX) {  // zstd promises its bound: not expected
    throw FormatException({FormatError::Kind::kIo, name_, offset_,
                           "zstd: a chunk of " + std::to_string(raw.size()) +
                               " bytes did not fit its compression bound"});
  }
  unsigned char* out = scratch_->out.get();
  PutU32(out, static_cast<uint32_t>(n));
  PutU32(out + 4, static_cast<uint32_t>(raw.size()));
  PutU32(out + 8, ChunkHeaderCheck(out));
  ChunkInfo info{offset_, static_cast<uint32_t>(n), static_cast<uint32_t>(raw.size())};
  WriteAll(out, kChunkHeaderSize + n);
  return info;
}

size_t ContainerWriter::CompressBlocks(std::string_view raw, std::span<const size_t> cuts) {
  const size_t bound = ZSTD_compressBound(raw.size());
  // A flush may end a block that does not compress: 3 bytes of block header more per cut.
  const size_t size = kChunkHeaderSize + bound + 3 * cuts.size();
  unsigned char* out = scratch_->Reserve(size);
  ZSTD_CCtx* cctx = scratch_->cctx;
  ZSTD_CCtx_reset(cctx, ZSTD_reset_session_only);
  ZSTD_CCtx_setPledgedSrcSize(cctx, raw.size());
  ZSTD_outBuffer dst{out + kChunkHeaderSize, size - kChunkHeaderSize, 0};
  size_t begin = 0;
  for (size_t i = 0; i <= cuts.size(); ++i) {
    const size_t end = i < cuts.size() ? cuts[i] : raw.size();
    ZSTD_inBuffer src{raw.data() + begin, end - begin, 0};
    const ZSTD_EndDirective mode = i < cuts.size() ? ZSTD_e_flush : ZSTD_e_end;
    size_t left;
    do {
      left = ZSTD_compressStream2(cctx, &dst, &src, mode);
      if (ZSTD_isError(left)) {
        throw FormatException({FormatError::Kind::kIo, name_, offset_,
                               std::string("zstd: ") + ZSTD_getErrorName(left)});
      }
    } while (left != 0 && dst.pos < dst.size);
    if (left != 0) return SIZE_MAX;
    begin = end;
  }
  return dst.pos <= bound ? dst.pos : SIZE_MAX;
}

void ContainerWriter::WriteAll(const void* data, size_t size) {
  if (fd_ < 0) {
    throw FormatException({FormatError::Kind::kIo, name_, offset_, "write after close"});
  }
  // Checked right before the write, after the chunk was compressed: the window in which the
  // program could take the number over is two system calls wide.
  if (!pinned_path_.empty()) KeepWritingToOurFile();
  auto* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd_, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      throw FormatException(
          {FormatError::Kind::kIo, name_, offset_, std::string("write: ") + std::strerror(errno)});
    }
    p += n;
    size -= n;
    offset_ += n;
  }
}

// ---------------------------------------------------------------------------------------------

struct ContainerReader::Scratch {
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  std::vector<char> compressed;
  ~Scratch() { ZSTD_freeDCtx(dctx); }
};

ContainerReader::ContainerReader(const std::string& path) : path_(path), scratch_(new Scratch) {
  file_ = std::fopen(path.c_str(), "rbe");
  if (!file_) {
    Fail(FormatError::Kind::kIo, 0, std::string("cannot open: ") + std::strerror(errno));
    return;
  }
  struct stat st;
  if (fstat(fileno(file_), &st) == 0 && S_ISREG(st.st_mode)) file_size_ = st.st_size;
  if (fstat(fileno(file_), &st) == 0 && S_ISDIR(st.st_mode)) {
    Fail(FormatError::Kind::kIo, 0, "is a directory");
    return;
  }
  unsigned char header[kFileHeaderSize];
  size_t got = 0;
  if (!ReadExact(header, sizeof header, &got)) {
    if (got == 0) {
      Fail(FormatError::Kind::kEmpty, 0, "empty file, not a tierscope file");
    } else {
      Fail(FormatError::Kind::kBadMagic, 0,
           "file of " + std::to_string(got) + " bytes is too short to be a tierscope file");
    }
    return;
  }
  if (std::memcmp(header, kMagic, 8) != 0) {
    Fail(FormatError::Kind::kBadMagic, 0, "not a tierscope file (bad magic)");
    return;
  }
  major_ = GetU16(header + 8);
  minor_ = GetU16(header + 10);
  if (major_ < kOldestReadableMajor || major_ > kFormatMajor) {
    Fail(FormatError::Kind::kBadVersion, 8,
         "format version " + std::to_string(major_) + "." + std::to_string(minor_) +
             " is not supported (this build reads " + std::to_string(kOldestReadableMajor) +
             ".x to " + std::to_string(kFormatMajor) + ".x)");
    return;
  }
  uint32_t kind = GetU32(header + 12);
  if (kind != static_cast<uint32_t>(FileKind::kTrace) &&
      kind != static_cast<uint32_t>(FileKind::kProfile)) {
    Fail(FormatError::Kind::kWrongKind, 12, "unknown file kind " + std::to_string(kind));
    return;
  }
  kind_ = static_cast<FileKind>(kind);
  offset_ = kFileHeaderSize;
}

ContainerReader::~ContainerReader() {
  if (file_) std::fclose(file_);
}

bool ContainerReader::Fail(FormatError::Kind kind, uint64_t offset, std::string what) {
  error_ = FormatError{kind, path_, offset, std::move(what)};
  return false;
}

bool ContainerReader::ReadExact(void* data, size_t size, size_t* got) {
  *got = std::fread(data, 1, size, file_);
  return *got == size;
}

bool ContainerReader::Seek(uint64_t offset) {
  if (error_ || !file_) return false;
  if (offset < kFileHeaderSize || (file_size_ != 0 && offset >= file_size_)) {
    return Fail(FormatError::Kind::kIo, offset, "no chunk can start here (outside the file)");
  }
  if (fseeko(file_, static_cast<off_t>(offset), SEEK_SET) != 0) {
    return Fail(FormatError::Kind::kIo, offset, std::string("seek: ") + std::strerror(errno));
  }
  offset_ = offset;
  return true;
}

bool ContainerReader::Next(std::string* raw, ChunkInfo* info) {
  if (error_ || !file_) return false;
  const uint64_t chunk_offset = offset_;
  unsigned char header[kChunkHeaderSize];
  size_t got = 0;
  if (!ReadExact(header, sizeof header, &got)) {
    if (got == 0 && !std::ferror(file_)) return false;  // clean end
    if (std::ferror(file_)) return Fail(FormatError::Kind::kIo, chunk_offset, "read error");
    return Fail(FormatError::Kind::kTruncated, chunk_offset,
                "truncated: chunk header cut short after " + std::to_string(got) + " bytes");
  }
  const uint32_t compressed = GetU32(header);
  const uint32_t raw_size = GetU32(header + 4);
  if (GetU32(header + 8) != ChunkHeaderCheck(header)) {
    return Fail(FormatError::Kind::kCorrupt, chunk_offset, "corrupt chunk header");
  }
  if (raw_size > kMaxChunkRawSize) {
    return Fail(FormatError::Kind::kCorrupt, chunk_offset,
                "chunk claims " + std::to_string(raw_size) + " bytes, above the limit");
  }
  const uint64_t payload_offset = chunk_offset + kChunkHeaderSize;
  if (file_size_ != 0 && payload_offset + compressed > file_size_) {
    return Fail(FormatError::Kind::kTruncated, chunk_offset,
                "truncated: chunk of " + std::to_string(compressed) + " bytes but only " +
                    std::to_string(file_size_ - payload_offset) + " remain");
  }
  if (compressed > ZSTD_compressBound(raw_size)) {
    return Fail(FormatError::Kind::kCorrupt, chunk_offset,
                "chunk sizes are inconsistent (" + std::to_string(compressed) + " compressed, " +
                    std::to_string(raw_size) + " raw)");
  }
  auto& buf = scratch_->compressed;
  buf.resize(compressed);
  if (!ReadExact(buf.data(), compressed, &got)) {
    return Fail(FormatError::Kind::kTruncated, chunk_offset,
                "truncated: chunk payload cut short after " + std::to_string(got) + " of " +
                    std::to_string(compressed) + " bytes");
  }
  raw->resize(raw_size);
  size_t n = ZSTD_decompressDCtx(scratch_->dctx, raw->data(), raw_size, buf.data(), compressed);
  if (ZSTD_isError(n) || n != raw_size) {
    return Fail(FormatError::Kind::kCorrupt, payload_offset,
                std::string("corrupt chunk payload: ") +
                    (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "size mismatch"));
  }
  offset_ = payload_offset + compressed;
  if (info) *info = ChunkInfo{chunk_offset, compressed, raw_size};
  return true;
}

}  // namespace tierscope::formats
