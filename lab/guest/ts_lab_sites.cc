// ts-lab-sites: allocations from known sites that check their own pages. The placer test runs
// it in the lab guest under `tierscope run` with a profile naming its sites, and every object
// it allocated is then checked page by page with move_pages: the sharpest per-site assertion
// there is, because the program knows exactly which pointer came from which site.
//
// Sites (each allocates --large objects of 512 KiB (default 8), then 512 of 2 KiB, touching
// every byte):
//   hot, cold, unplanned   malloc from lab_site_hot / lab_site_cold / lab_site_unplanned
//   hint-hot, hint-cold    ts_malloc_hot / ts_malloc_cold, the placer's hint API (looked up at
//                          run time, so the same binary runs with and without the placer)
//   big-cold               one 32 MiB malloc from lab_site_cold (past jemalloc's 8 MiB huge-size
//                          threshold), grown by realloc to 64 MiB: the grown block must stay
//   map                    one 16 MiB anonymous mmap from lab_site_map (key: lab/site-keys), grown
//                          by mremap to 32 MiB: the program's own mapping and its growth
//
//   ts-lab-sites --keys                      print each malloc site's match key, for a profile
//   ts-lab-sites [--sites LIST] [--large N] [--expect SITE=NODE]... [--spill SITE=BYTES]...
//       --sites: comma-separated sites to allocate from (default: hot,cold,unplanned)
//       --expect: every page of every object from SITE is on NODE
//       --spill: the budget guard: every object of SITE is wholly on one node, the first is on
//                node 0, at most BYTES of them are on node 0 and all the rest on node 1
// Exit 0 when every expectation holds, 1 with "MISMATCH: ..." lines otherwise, 2 on errors.
#include <dlfcn.h>
#include <sys/mman.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "page_nodes.h"
#include "site_keys.h"

namespace lab = tierscope::lab;

namespace {

size_t g_large = 8;
constexpr size_t kLargeBytes = 512u << 10;
constexpr size_t kSmall = 512, kSmallBytes = 2u << 10;

using AllocFn = void* (*)(size_t);

// The sites call malloc through this pointer, so --keys can swap in a function that records
// the return address: the call instruction, hence the return address, is the same either way.
AllocFn volatile g_alloc = std::malloc;
const void* g_last_return = nullptr;

__attribute__((noinline)) void* CaptureReturn(size_t) {
  g_last_return = __builtin_return_address(0);
  return nullptr;
}

}  // namespace

// One non-inlined extern "C" function per site; work after the call keeps it a real call.
extern "C" __attribute__((noinline)) void* lab_site_hot(size_t n) {
  void* p = g_alloc(n);
  asm volatile("" : : "r"(p) : "memory");
  return p;
}
extern "C" __attribute__((noinline)) void* lab_site_cold(size_t n) {
  void* p = g_alloc(n);
  asm volatile("" : : "r"(p) : "memory");
  return p;
}
extern "C" __attribute__((noinline)) void* lab_site_unplanned(size_t n) {
  void* p = g_alloc(n);
  asm volatile("" : : "r"(p) : "memory");
  return p;
}

extern "C" __attribute__((noinline)) void* lab_site_map(size_t n) {
  void* p = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  asm volatile("" : : "r"(p) : "memory");
  return p == MAP_FAILED ? nullptr : p;
}

namespace {

int mismatches = 0;

void Check(bool ok, const std::string& what) {
  std::printf("%s: %s\n", ok ? "ok" : "MISMATCH", what.c_str());
  if (!ok) ++mismatches;
}

[[noreturn]] void Fail(const std::string& why) {
  std::fprintf(stderr, "ts-lab-sites: %s\n", why.c_str());
  std::exit(2);
}

AllocFn SiteFunction(const std::string& site) {
  if (site == "hot") return lab_site_hot;
  if (site == "cold") return lab_site_cold;
  if (site == "unplanned") return lab_site_unplanned;
  const char* symbol = site == "hint-hot"    ? "ts_malloc_hot"
                       : site == "hint-cold" ? "ts_malloc_cold"
                                             : nullptr;
  if (symbol == nullptr) Fail("unknown site '" + site + "'");
  auto fn = reinterpret_cast<AllocFn>(dlsym(RTLD_DEFAULT, symbol));
  if (fn == nullptr) Fail(std::string(symbol) + " not found: run under the placer");
  return fn;
}

struct Object {
  char* p;
  size_t bytes;
  lab::NodeCounts where;
};

// big-cold and map: one large block, grown after its first touch; the grown block is checked.
std::vector<Object> AllocateGrown(const std::string& site) {
  constexpr size_t kMiB = size_t{1} << 20;
  const bool map = site == "map";
  const size_t first = map ? 16 * kMiB : 32 * kMiB;
  auto* p = static_cast<char*>(map ? lab_site_map(first) : lab_site_cold(first));
  if (p == nullptr) Fail("out of memory at site " + site);
  std::memset(p, 0x5a, first);
  void* grown = map ? mremap(p, first, 2 * first, MREMAP_MAYMOVE) : std::realloc(p, 2 * first);
  if (grown == nullptr || grown == MAP_FAILED) Fail("cannot grow the block of site " + site);
  std::memset(grown, 0x5a, 2 * first);  // the new part is touched here, after the growth
  return {{static_cast<char*>(grown), 2 * first, {}}};
}

std::vector<Object> Allocate(const std::string& site) {
  if (site == "big-cold" || site == "map") return AllocateGrown(site);
  const AllocFn fn = SiteFunction(site);
  std::vector<Object> objects;
  for (size_t i = 0; i < g_large + kSmall; ++i) {
    const size_t bytes = i < g_large ? kLargeBytes : kSmallBytes;
    auto* p = static_cast<char*>(fn(bytes));
    if (p == nullptr) Fail("out of memory at site " + site);
    std::memset(p, 0x5a, bytes);  // first touch: the page's node is chosen now
    objects.push_back({p, bytes, {}});
  }
  return objects;
}

void Locate(std::vector<Object>* objects) {
  for (Object& o : *objects) {
    std::vector<int> nodes;
    std::string error;
    if (!lab::PageNodes(0, reinterpret_cast<uintptr_t>(o.p), o.bytes, &nodes, &error)) Fail(error);
    o.where = lab::CountNodes(nodes);
  }
}

lab::NodeCounts Total(const std::vector<Object>& objects) {
  lab::NodeCounts total;
  for (const Object& o : objects) {
    for (const auto& [node, pages] : o.where) total[node] += pages;
  }
  return total;
}

void PrintKeys() {
  g_alloc = CaptureReturn;
  for (const char* site : {"hot", "cold", "unplanned"}) {
    SiteFunction(site)(1);
    lab::SiteKey key;
    if (!lab::KeyOfAddress(g_last_return, &key)) Fail("no module holds the return address");
    std::printf("key %s %s %s %#lx\n", site, key.module.c_str(),
                key.build_id.empty() ? "-" : key.build_id.c_str(), key.offset);
  }
  g_alloc = std::malloc;
}

void CheckSpill(const std::string& site, const std::vector<Object>& objects, long budget) {
  size_t on0 = 0, on1 = 0, total = 0;
  bool whole = true;
  for (const Object& o : objects) {
    total += o.bytes;
    if (o.where.size() != 1 || o.where.begin()->first < 0) whole = false;
    if (lab::AllOnNode(o.where, 0)) on0 += o.bytes;
    if (lab::AllOnNode(o.where, 1)) on1 += o.bytes;
  }
  Check(whole, site + ": every object wholly on one node");
  Check(!objects.empty() && lab::AllOnNode(objects.front().where, 0),
        site + ": the first object is on node 0 (the fast tier had room)");
  Check(on0 <= static_cast<size_t>(budget) && on1 > 0 && on0 + on1 == total,
        site + ": " + std::to_string(on0) + " bytes on node 0 (budget " + std::to_string(budget) +
            "), the other " + std::to_string(on1) + " of " + std::to_string(total) +
            " spilled to node 1");
}

}  // namespace

int main(int argc, char** argv) {
  std::string sites = "hot,cold,unplanned";
  std::map<std::string, long> expect, spill;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--keys") {
      PrintKeys();
      return 0;
    }
    if (i + 1 >= argc) Fail("usage: see the header of lab/guest/ts_lab_sites.cc");
    const std::string v = argv[++i];
    if (a == "--sites") {
      sites = v;
      continue;
    }
    if (a == "--large") {
      g_large = std::strtoul(v.c_str(), nullptr, 10);
      continue;
    }
    const auto eq = v.rfind('=');
    if (eq == std::string::npos || (a != "--expect" && a != "--spill")) {
      Fail("bad argument '" + a + " " + v + "'");
    }
    (a == "--expect" ? expect : spill)[v.substr(0, eq)] = std::atol(v.c_str() + eq + 1);
  }

  std::map<std::string, std::vector<Object>> by_site;
  for (size_t at = 0; at <= sites.size();) {
    const size_t comma = sites.find(',', at);
    const std::string site =
        sites.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    by_site[site] = Allocate(site);
    at = comma == std::string::npos ? sites.size() + 1 : comma + 1;
  }
  // Located after every site allocated, so a later allocation cannot have moved anything.
  for (auto& [site, objects] : by_site) {
    Locate(&objects);
    std::printf("site %s: %s\n", site.c_str(), lab::FormatCounts(Total(objects)).c_str());
  }
  for (const auto& [site, node] : expect) {
    if (!by_site.count(site)) Fail("--expect names site '" + site + "' that did not allocate");
    const lab::NodeCounts total = Total(by_site[site]);
    Check(
        lab::AllOnNode(total, static_cast<int>(node)),
        "site " + site + " all on node " + std::to_string(node) + ": " + lab::FormatCounts(total));
  }
  for (const auto& [site, budget] : spill) {
    if (!by_site.count(site)) Fail("--spill names site '" + site + "' that did not allocate");
    CheckSpill(site, by_site[site], budget);
  }
  std::printf("%s: %d mismatch(es)\n", mismatches == 0 ? "PASS" : "FAIL", mismatches);
  return mismatches == 0 ? 0 : 1;
}
