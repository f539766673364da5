#include "tierscope/formats/trace_io.h"

#include "tierscope/formats/block_cuts.h"

namespace tierscope::formats {

ChunkInfo TraceWriter::Append(const trace::TraceChunk& chunk) {
  scratch_.clear();
  chunk.SerializeToString(&scratch_);
  BlockCuts(scratch_, &cuts_);
  return out_.Append(scratch_, cuts_);
}

TraceReader::TraceReader(const std::string& path) : in_(path) {
  if (!in_.error() && in_.kind() != FileKind::kTrace) {
    error_ = FormatError{FormatError::Kind::kWrongKind, path, 12,
                         std::string("is a ") + FileKindName(in_.kind()) + ", not a trace"};
  }
}

const std::optional<FormatError>& TraceReader::error() const {
  return error_ ? error_ : in_.error();
}

bool TraceReader::Next(trace::TraceChunk* chunk, ChunkInfo* info) {
  if (error_) return false;
  ChunkInfo local;
  if (!in_.Next(&scratch_, &local)) return false;
  if (!chunk->ParseFromString(scratch_)) {
    error_ = FormatError{FormatError::Kind::kCorrupt, in_.path(), local.offset,
                         "chunk is not a valid trace chunk"};
    return false;
  }
  if (info) *info = local;
  return true;
}

}  // namespace tierscope::formats
