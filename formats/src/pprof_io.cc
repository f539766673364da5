#include "tierscope/formats/pprof_io.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tierscope/formats/container.h"

namespace tierscope::formats {
namespace {

[[noreturn]] void Fail(FormatError::Kind kind, const std::string& path, uint64_t offset,
                       std::string what) {
  throw FormatException(FormatError{kind, path, offset, std::move(what)});
}

}  // namespace

void WritePprof(const std::string& path, const perftools::profiles::Profile& profile) {
  const std::string raw = profile.SerializeAsString();
  z_stream z{};
  // windowBits 15 + 16: a gzip wrapper, which is what pprof expects.
  if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    Fail(FormatError::Kind::kIo, path, 0, "zlib could not start");
  }
  std::string out(deflateBound(&z, raw.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  z.avail_in = static_cast<uInt>(raw.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) Fail(FormatError::Kind::kIo, path, 0, "gzip failed");
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(out.data(), static_cast<std::streamsize>(out.size()));
  file.close();
  if (!file)
    Fail(FormatError::Kind::kIo, path, 0, std::string("cannot write: ") + std::strerror(errno));
}

perftools::profiles::Profile ReadPprof(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    Fail(FormatError::Kind::kIo, path, 0, std::string("cannot read: ") + std::strerror(errno));
  std::stringstream ss;
  ss << file.rdbuf();
  const std::string in = ss.str();
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK)
    Fail(FormatError::Kind::kIo, path, 0, "zlib could not start");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  std::string raw;
  char buf[1 << 16];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    raw.append(buf, sizeof buf - z.avail_out);
    if (raw.size() > (1u << 30)) rc = Z_MEM_ERROR;
  }
  const uint64_t where = z.total_in;
  inflateEnd(&z);
  if (rc != Z_STREAM_END) {
    Fail(rc == Z_BUF_ERROR ? FormatError::Kind::kTruncated : FormatError::Kind::kCorrupt, path,
         where, "not a complete gzip stream");
  }
  perftools::profiles::Profile profile;
  if (!profile.ParseFromString(raw)) {
    Fail(FormatError::Kind::kCorrupt, path, 0, "gzip payload is not a pprof profile");
  }
  return profile;
}

}  // namespace tierscope::formats
