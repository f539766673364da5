// A program that links libprotobuf and registers protobuf files of its own under the paths
// tierscope's formats once had ("proto/trace.proto", "proto/profile.proto"). A second file of one
// path in the process-wide descriptor pool is fatal at load time, so the preloaded recorder and
// placer must not bring theirs under those paths. Prints what it parsed back and the descriptor
// pool's view of its files.
#include <google/protobuf/descriptor.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "proto/profile.pb.h"
#include "proto/trace.pb.h"

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 1000;
  uint64_t sum = 0;
  for (int i = 0; i < n; ++i) {
    someone::trace::Span span;
    span.set_name("span " + std::to_string(i));
    span.set_start_ns(uint64_t(i) * 1000);
    for (int c = 0; c < i % 7; ++c) span.add_children(uint64_t(c));
    std::string wire;
    span.SerializeToString(&wire);
    someone::trace::Span back;
    if (!back.ParseFromString(wire)) return 2;
    someone::profile::Sample sample;
    sample.add_location_id(back.start_ns());
    sample.set_value(back.children_size());
    sum += sample.location_id(0) / 1000 + uint64_t(sample.value());
  }
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  std::printf("spans %d sum %llu files %s %s\n", n, static_cast<unsigned long long>(sum),
              pool->FindFileByName("proto/trace.proto") ? "trace" : "-",
              pool->FindFileByName("proto/profile.proto") ? "profile" : "-");
  return 0;
}
