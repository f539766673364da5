#include "data/address_map.h"

#include <algorithm>
#include <unordered_map>

namespace tierscope::gui {

double AddressMapData::ToAxis(uint64_t address) const {
  // The first span that ends after the address.
  auto it = std::upper_bound(spans.begin(), spans.end(), address,
                             [](uint64_t a, const AddressSpan& s) { return a < s.end; });
  if (it == spans.end()) return double(axis_bytes);
  if (address <= it->start) return double(it->axis);
  return double(it->axis) + double(address - it->start);
}

uint64_t AddressMapData::FromAxis(double axis) const {
  if (spans.empty() || axis <= 0) return spans.empty() ? 0 : spans.front().start;
  auto it = std::upper_bound(spans.begin(), spans.end(), axis,
                             [](double a, const AddressSpan& s) { return a < double(s.axis); });
  if (it == spans.begin()) return spans.front().start;
  --it;
  const double offset = axis - double(it->axis);
  return std::min(it->end, it->start + uint64_t(std::max(0.0, offset)));
}

namespace {

// Sample cells keyed by (unit << kBinBits | bin); coarsens itself to stay under max_cells:
// first the address (up to kMaxShift), then time, so a page-level picture survives as long as
// the bound allows.
class CellBinner {
 public:
  static constexpr int kBinBits = 12;   // up to 4096 time bins
  static constexpr int kMaxShift = 30;  // 1 GiB cells: coarser says nothing about placement

  explicit CellBinner(size_t max_cells) : max_cells_(max_cells) {}
  int shift() const { return shift_; }
  int time_shift() const { return time_shift_; }

  void Add(uint64_t address, uint32_t bin) {
    ++counts_[Key(address >> shift_, bin >> time_shift_)];
    if (counts_.size() > max_cells_) Coarsen();
  }

  std::vector<AddressCell> Take() {
    std::vector<AddressCell> cells;
    cells.reserve(counts_.size());
    for (const auto& [key, count] : counts_)
      cells.push_back({key >> kBinBits, uint32_t(key & ((1u << kBinBits) - 1)), count});
    std::sort(cells.begin(), cells.end(), [](const AddressCell& a, const AddressCell& b) {
      return a.unit != b.unit ? a.unit < b.unit : a.bin < b.bin;
    });
    counts_.clear();
    return cells;
  }

 private:
  static uint64_t Key(uint64_t unit, uint32_t bin) { return unit << kBinBits | bin; }

  // Twice the address height (or time width) per cell: neighbours merge.
  void Coarsen() {
    while (counts_.size() > max_cells_ / 2 && (shift_ < kMaxShift || time_shift_ < kBinBits)) {
      const bool address = shift_ < kMaxShift;
      if (address)
        ++shift_;
      else
        ++time_shift_;
      std::unordered_map<uint64_t, uint32_t> merged;
      merged.reserve(counts_.size());
      for (const auto& [key, count] : counts_) {
        const uint64_t unit = key >> kBinBits;
        const uint32_t bin = uint32_t(key & ((1u << kBinBits) - 1));
        merged[address ? Key(unit >> 1, bin) : Key(unit, bin >> 1)] += count;
      }
      counts_.swap(merged);
    }
  }

  size_t max_cells_;
  int shift_ = 12;  // one 4 KiB page: the finest the map shows
  int time_shift_ = 0;
  std::unordered_map<uint64_t, uint32_t> counts_;
};

// Block lifetimes above a rising size threshold: past max_blocks the threshold doubles and the
// smaller blocks go. The analyzer's join pairs allocations with releases; this only keeps.
class BlockKeeper {
 public:
  explicit BlockKeeper(size_t max_blocks) : max_blocks_(max_blocks) {}

  void Add(const AddressBlock& block) {
    if (block.size < min_size_ || block.size == 0) return;
    blocks_.push_back(block);
    if (blocks_.size() > max_blocks_) Raise();
  }

  uint64_t min_size() const { return min_size_; }

  std::vector<AddressBlock> Take() {
    std::sort(blocks_.begin(), blocks_.end(), [](const AddressBlock& a, const AddressBlock& b) {
      return a.start != b.start ? a.start < b.start : a.alloc_ns < b.alloc_ns;
    });
    return std::move(blocks_);
  }

 private:
  void Raise() {
    while (blocks_.size() > max_blocks_ / 2) {
      min_size_ = std::max<uint64_t>(min_size_ * 2, 64);
      std::erase_if(blocks_, [&](const AddressBlock& b) { return b.size < min_size_; });
    }
  }

  size_t max_blocks_;
  uint64_t min_size_ = 1;
  std::vector<AddressBlock> blocks_;
};

// Occupied ranges, merged, with the widest gaps cut out of the axis.
void BuildSpans(AddressMapData* map, size_t max_spans) {
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  ranges.reserve(map->blocks.size() + map->cells.size() / 4);
  for (const AddressBlock& b : map->blocks) ranges.push_back({b.start, b.start + b.size});
  for (const AddressCell& c : map->cells) {
    const uint64_t start = c.unit << map->cell_shift;
    if (ranges.empty() || ranges.back().first != start)
      ranges.push_back({start, start + (uint64_t(1) << map->cell_shift)});
  }
  std::sort(ranges.begin(), ranges.end());
  std::vector<std::pair<uint64_t, uint64_t>> merged;
  for (const auto& r : ranges) {
    if (!merged.empty() && r.first <= merged.back().second)
      merged.back().second = std::max(merged.back().second, r.second);
    else
      merged.push_back(r);
  }
  if (merged.empty()) return;
  // Keep the max_spans - 1 widest gaps as cuts; narrower gaps stay on the axis as they are.
  std::vector<uint64_t> gaps;
  for (size_t i = 1; i < merged.size(); ++i) gaps.push_back(merged[i].first - merged[i - 1].second);
  uint64_t min_cut = 0;
  if (gaps.size() >= max_spans) {
    std::vector<uint64_t> sorted = gaps;
    std::nth_element(sorted.begin(), sorted.begin() + (max_spans - 1), sorted.end(),
                     std::greater<>());
    min_cut = sorted[max_spans - 1] + 1;
  }
  std::vector<std::pair<uint64_t, uint64_t>> spans = {merged[0]};
  for (size_t i = 1; i < merged.size(); ++i) {
    if (gaps[i - 1] >= min_cut && spans.size() < max_spans)
      spans.push_back(merged[i]);
    else
      spans.back().second = merged[i].second;
  }
  uint64_t total = 0;
  for (const auto& s : spans) total += s.second - s.first;
  // A cut shows as a thin band, 1/200 of the occupied bytes, so spans stay apart.
  const uint64_t cut = std::max<uint64_t>(total / 200, 4096);
  uint64_t axis = 0;
  for (const auto& s : spans) {
    map->spans.push_back({s.first, s.second, axis});
    axis += (s.second - s.first) + cut;
  }
  map->axis_bytes = axis - cut;
}

}  // namespace

struct AddressMapBuilder::Binning {
  CellBinner cells;
  BlockKeeper blocks;
};

AddressMapBuilder::AddressMapBuilder(const AddressMapOptions& options)
    : options_(options),
      binning_(new Binning{CellBinner(std::max<size_t>(options.max_cells, 16)),
                           BlockKeeper(std::max<size_t>(options.max_blocks, 16))}) {
  map_.time_bins = std::clamp(options.time_bins, 1, 1 << CellBinner::kBinBits);
}

AddressMapBuilder::~AddressMapBuilder() = default;

void AddressMapBuilder::OnRunBounds(uint64_t start_ns, uint64_t duration_ns) {
  start_ns_ = start_ns;
  map_.duration_ns = std::max<uint64_t>(duration_ns, 1);
}

void AddressMapBuilder::OnBlockLifetime(const analyzer::BlockLifetime& block) {
  auto since_start = [&](uint64_t t) {
    return std::min(t - std::min(t, start_ns_), map_.duration_ns);
  };
  binning_->blocks.Add({block.start, block.end - block.start, since_start(block.alloc_ns),
                        since_start(block.free_ns)});
}

void AddressMapBuilder::OnSample(uint64_t address, uint64_t time_ns) {
  if (address == 0) return;  // undecoded: no address to place
  uint32_t bin = 0;
  if (time_ns > start_ns_) {
    const double share = double(time_ns - start_ns_) / double(map_.duration_ns);
    bin = uint32_t(std::min(map_.time_bins - 1.0, share * map_.time_bins));
  }
  binning_->cells.Add(address, bin);
  ++map_.samples;
}

AddressMapData AddressMapBuilder::Finish() {
  CellBinner& cells = binning_->cells;
  map_.cell_shift = cells.shift();
  // Time bins merged by the binner: the map has fewer, wider ones.
  map_.time_bins =
      std::max(1, (map_.time_bins + (1 << cells.time_shift()) - 1) >> cells.time_shift());
  map_.cells = cells.Take();
  map_.min_block_bytes = binning_->blocks.min_size();
  map_.blocks = binning_->blocks.Take();
  for (const AddressCell& c : map_.cells) map_.max_count = std::max(map_.max_count, c.count);
  BuildSpans(&map_, std::max<size_t>(options_.max_spans, 1));
  return std::move(map_);
}

}  // namespace tierscope::gui
