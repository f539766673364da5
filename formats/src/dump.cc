#include "tierscope/formats/dump.h"

#include <google/protobuf/text_format.h>

#include <cinttypes>
#include <cstdio>

#include "profile.pb.h"
#include "tierscope/formats/alloc_columns.h"
#include "tierscope/formats/sample_columns.h"
#include "trace.pb.h"

namespace tierscope::formats {
namespace {

std::string Hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

// Build-ids are bytes; people compare them with `file` and `readelf -n` output, which is hex.
class HexBytesPrinter : public google::protobuf::TextFormat::FastFieldValuePrinter {
 public:
  void PrintBytes(const std::string& value,
                  google::protobuf::TextFormat::BaseTextGenerator* out) const override {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string hex = "\"";
    for (unsigned char c : value) {
      hex += kDigits[c >> 4];
      hex += kDigits[c & 15];
    }
    hex += '"';
    out->PrintString(hex);
  }
};

void PrintText(const google::protobuf::Message& message, std::ostream& out) {
  std::string text;
  google::protobuf::TextFormat::Printer printer;
  printer.SetUseShortRepeatedPrimitives(true);
  printer.RegisterFieldValuePrinter(trace::Module::descriptor()->FindFieldByName("build_id"),
                                    new HexBytesPrinter);
  printer.RegisterFieldValuePrinter(profile::Location::descriptor()->FindFieldByName("build_id"),
                                    new HexBytesPrinter);
  printer.PrintToString(message, &text);
  out << text;
}

void PrintAllocBatch(const trace::AllocBatch& batch, std::ostream& out, int64_t max_events) {
  out << "allocs { tid: " << batch.tid() << " events: " << batch.kind_size() << "\n";
  AllocBatchCursor cursor(batch);
  AllocEvent e;
  int64_t shown = 0;
  while (cursor.Next(&e)) {
    if (max_events >= 0 && shown++ >= max_events) {
      out << "  ...\n";
      break;
    }
    out << "  " << e.time_ns << " " << trace::EventKind_Name(e.kind) << " " << Hex(e.address);
    if (KindHasSize(e.kind)) out << " size=" << e.size;
    if (KindIsAllocation(e.kind)) out << " stack=" << e.stack_id;
    out << "\n";
  }
  if (!cursor.error().empty()) out << "  error: " << cursor.error() << "\n";
  out << "}\n";
}

void PrintSampleBatch(const trace::SampleBatch& batch, std::ostream& out, int64_t max_events) {
  out << "samples { tid: " << batch.tid() << " source: " << trace::SamplerKind_Name(batch.source())
      << " samples: " << batch.access_size() << "\n";
  SampleBatchCursor cursor(batch);
  AccessSample s;
  int64_t shown = 0;
  while (cursor.Next(&s)) {
    if (max_events >= 0 && shown++ >= max_events) {
      out << "  ...\n";
      break;
    }
    out << "  " << s.time_ns << " " << trace::AccessKind_Name(s.access) << " ip=" << Hex(s.ip)
        << " addr=" << Hex(s.address);
    if (s.weight != 1) out << " weight=" << s.weight;
    if (s.data_source) out << " src=" << Hex(s.data_source);
    out << "\n";
  }
  if (!cursor.error().empty()) out << "  error: " << cursor.error() << "\n";
  out << "}\n";
}

void PrintTraceChunk(trace::TraceChunk& chunk, std::ostream& out, const DumpOptions& options) {
  // Batches are decoded into events; everything else prints as protobuf text.
  auto allocs = std::move(*chunk.mutable_allocs());
  auto samples = std::move(*chunk.mutable_samples());
  chunk.clear_allocs();
  chunk.clear_samples();
  PrintText(chunk, out);
  for (const auto& batch : allocs) PrintAllocBatch(batch, out, options.max_events);
  for (const auto& batch : samples) PrintSampleBatch(batch, out, options.max_events);
}

}  // namespace

std::optional<FormatError> DumpFile(const std::string& path, std::ostream& out,
                                    const DumpOptions& options) {
  ContainerReader in(path);
  if (in.error()) return in.error();
  out << "file: " << path << "\nkind: " << FileKindName(in.kind())
      << "\nversion: " << in.major_version() << "." << in.minor_version()
      << "\nsize: " << in.file_size() << " bytes\n";
  std::string raw;
  ChunkInfo info;
  uint64_t chunks = 0, raw_total = 0;
  trace::TraceChunk trace_chunk;
  profile::ProfileChunk profile_chunk;
  while (in.Next(&raw, &info)) {
    ++chunks;
    raw_total += info.raw_size;
    out << "--- chunk " << chunks - 1 << " at byte " << info.offset << ": " << info.compressed_size
        << " bytes compressed, " << info.raw_size << " raw\n";
    if (options.chunks_only) continue;
    google::protobuf::Message* message = &trace_chunk;
    if (in.kind() == FileKind::kProfile) message = &profile_chunk;
    if (!message->ParseFromString(raw)) {
      return FormatError{FormatError::Kind::kCorrupt, path, info.offset,
                         std::string("chunk is not a valid ") + FileKindName(in.kind()) + " chunk"};
    }
    if (in.kind() == FileKind::kTrace) {
      PrintTraceChunk(trace_chunk, out, options);
    } else {
      PrintText(profile_chunk, out);
    }
  }
  out << "--- " << chunks << " chunks, " << raw_total << " bytes raw\n";
  return in.error();
}

}  // namespace tierscope::formats
