#include "tierscope/formats/block_cuts.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <cstdint>

#include "trace.pb.h"

namespace tierscope::formats {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

class CutCollector {
 public:
  CutCollector(std::vector<size_t>* cuts, size_t min_block) : cuts_(cuts), min_(min_block) {}

  // Walks the fields of the message in [begin, begin + size) of the chunk; descends into the
  // batches of a chunk (depth 0). False at bytes that are not a message.
  bool Walk(const uint8_t* data, size_t begin, size_t size, int depth) {
    CodedInputStream in(data + begin, static_cast<int>(size));
    for (;;) {
      const size_t start = begin + static_cast<size_t>(in.CurrentPosition());
      const uint32_t tag = in.ReadTag();
      if (tag == 0) return in.CurrentPosition() == static_cast<int>(size);
      Offer(start);
      const int field = static_cast<int>(WireFormatLite::GetTagFieldNumber(tag));
      switch (WireFormatLite::GetTagWireType(tag)) {
        case WireFormatLite::WIRETYPE_VARINT: {
          uint64_t v;
          if (!in.ReadVarint64(&v)) return false;
          break;
        }
        case WireFormatLite::WIRETYPE_FIXED64:
          if (!in.Skip(8)) return false;
          break;
        case WireFormatLite::WIRETYPE_FIXED32:
          if (!in.Skip(4)) return false;
          break;
        case WireFormatLite::WIRETYPE_LENGTH_DELIMITED: {
          uint32_t len;
          if (!in.ReadVarint32(&len)) return false;
          const size_t body = begin + static_cast<size_t>(in.CurrentPosition());
          if (len > size - (body - begin)) return false;
          const bool batch = depth == 0 && (field == trace::TraceChunk::kAllocsFieldNumber ||
                                            field == trace::TraceChunk::kSamplesFieldNumber);
          // A batch too short for two blocks has no column worth a block of its own.
          if (batch && len >= 2 * min_) Walk(data, body, len, depth + 1);
          if (!in.Skip(static_cast<int>(len))) return false;
          break;
        }
        default:
          return false;
      }
    }
  }

 private:
  void Offer(size_t offset) {
    const size_t last = cuts_->empty() ? 0 : cuts_->back();
    if (offset >= last + min_) cuts_->push_back(offset);
  }

  std::vector<size_t>* cuts_;
  size_t min_;
};

}  // namespace

void BlockCuts(std::string_view chunk, std::vector<size_t>* cuts, size_t min_block) {
  cuts->clear();
  if (min_block == 0) min_block = 1;
  if (chunk.size() < 2 * min_block || chunk.size() > static_cast<size_t>(INT32_MAX)) return;
  CutCollector(cuts, min_block)
      .Walk(reinterpret_cast<const uint8_t*>(chunk.data()), 0, chunk.size(), 0);
}

}  // namespace tierscope::formats
