// Typed access to trace files: one TraceChunk per container chunk.
#pragma once

#include <string>
#include <vector>

#include "tierscope/formats/container.h"
#include "trace.pb.h"

namespace tierscope::formats {

class TraceWriter {
 public:
  explicit TraceWriter(const std::string& path, int compression_level = 3)
      : out_(path, FileKind::kTrace, compression_level) {}
  TraceWriter(int fd, std::string name, int compression_level = 3)
      : out_(fd, std::move(name), FileKind::kTrace, compression_level) {}

  ChunkInfo Append(const trace::TraceChunk& chunk);
  void Close() { out_.Close(); }
  uint64_t bytes_written() const { return out_.bytes_written(); }
  void PinToFile(std::string path) { out_.PinToFile(std::move(path)); }  // see ContainerWriter
  int reopened() const { return out_.reopened(); }

 private:
  ContainerWriter out_;
  std::string scratch_;
  std::vector<size_t> cuts_;  // where each chunk's blocks start (block_cuts.h)
};

class TraceReader {
 public:
  explicit TraceReader(const std::string& path);

  // False at the end or at the first damaged chunk (see error()).
  bool Next(trace::TraceChunk* chunk, ChunkInfo* info = nullptr);
  // Next() then reads the chunk at `offset` (see ContainerReader::Seek).
  bool Seek(uint64_t offset) { return !error_ && in_.Seek(offset); }
  const std::optional<FormatError>& error() const;
  const ContainerReader& container() const { return in_; }

 private:
  ContainerReader in_;
  std::optional<FormatError> error_;
  std::string scratch_;
};

}  // namespace tierscope::formats
