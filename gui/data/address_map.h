// Address space x time for an open trace, binned on the worker thread in the analyzer's own pass
// (an AnalysisObserver: no second read of the trace), so painting never walks events and memory
// stays bounded for a 1 GB trace:
//  - samples are counted in cells of (2^cell_shift bytes of address, one time bin). Cells start
//    at one page; when there are more than max_cells the cell height doubles and cells merge,
//    so a big trace gets coarser cells instead of more memory;
//  - allocations of at least min_block_bytes are kept as blocks (address range x lifetime);
//    when there are more than max_blocks the threshold doubles and smaller blocks go.
// The address axis is compacted: empty stretches between the occupied spans are cut out (at
// most max_spans spans), else a heap and a mapping 100 TiB apart would each be one pixel.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "tierscope/analyzer/analysis_observer.h"

namespace tierscope::gui {

struct AddressMapOptions {
  int time_bins = 1024;
  size_t max_cells = size_t(1) << 21;  // ~16 bytes each in the final vector
  size_t max_blocks = size_t(1) << 17;
  size_t max_spans = 256;
};

struct AddressBlock {
  uint64_t start = 0, size = 0;
  uint64_t alloc_ns = 0;  // from the run's start
  uint64_t free_ns = 0;   // from the run's start; the run's end when never freed
};

struct AddressCell {
  uint64_t unit = 0;  // address >> cell_shift
  uint32_t bin = 0;
  uint32_t count = 0;  // samples (their weights are not added: a count is what was seen)
};

struct AddressSpan {
  uint64_t start = 0, end = 0;  // [start, end) in the address space
  uint64_t axis = 0;            // where `start` sits on the compacted axis
};

struct AddressMapData {
  uint64_t duration_ns = 1;
  int time_bins = 1;
  int cell_shift = 12;
  std::vector<AddressCell> cells;    // sorted by (unit, bin)
  std::vector<AddressBlock> blocks;  // sorted by start
  uint64_t min_block_bytes = 0;      // smaller allocations are not outlined
  std::vector<AddressSpan> spans;    // sorted, disjoint
  uint64_t axis_bytes = 0;           // length of the compacted axis
  uint64_t samples = 0;              // samples with an address
  uint32_t max_count = 0;

  double BinNs() const { return double(duration_ns) / time_bins; }
  // Compacted axis position of an address (addresses in a cut-out gap go to its edge).
  double ToAxis(uint64_t address) const;
  // The address at an axis position.
  uint64_t FromAxis(double axis) const;
};

// Register as AnalyzeOptions::observer, run AnalyzeTrace, then Finish once.
class AddressMapBuilder : public analyzer::AnalysisObserver {
 public:
  explicit AddressMapBuilder(const AddressMapOptions& options = {});
  ~AddressMapBuilder() override;

  void OnRunBounds(uint64_t start_ns, uint64_t duration_ns) override;
  void OnBlockLifetime(const analyzer::BlockLifetime& block) override;
  void OnSample(uint64_t address, uint64_t time_ns) override;

  AddressMapData Finish();

 private:
  struct Binning;  // the cells and the blocks, each coarsening itself past its bound
  AddressMapOptions options_;
  uint64_t start_ns_ = 0;
  AddressMapData map_;
  std::unique_ptr<Binning> binning_;
};

}  // namespace tierscope::gui
