#include "data/address_map.h"

#include <algorithm>
#include <exception>
#include <unordered_map>
#include <unordered_set>

#include "tierscope/formats/alloc_columns.h"
#include "tierscope/formats/sample_columns.h"
#include "tierscope/formats/trace_io.h"

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

// Allocations above a rising size threshold, and the releases of their addresses. Releases are
// matched after the pass because batches of different threads arrive out of time order.
class BlockCollector {
 public:
  explicit BlockCollector(size_t max_blocks) : max_blocks_(max_blocks) {}

  void Alloc(uint64_t address, uint64_t size, uint64_t time) {
    if (size < min_size_ || size == 0) return;
    blocks_.push_back({address, size, time, UINT64_MAX});
    tracked_.insert(address);
    if (blocks_.size() > max_blocks_) Raise();
  }
  void Release(uint64_t address, uint64_t time) {
    if (!tracked_.count(address)) return;
    releases_.push_back({address, time});
    // Small blocks reusing a tracked address can free it millions of times: match what we have
    // now rather than grow without bound.
    if (releases_.size() > 4 * max_blocks_) Settle();
  }

  uint64_t min_size() const { return min_size_; }

  std::vector<AddressBlock> Take(uint64_t end_ns) {
    Settle();
    // Two blocks at one address cannot be live together: a block ends at the latest when the
    // next one there starts (this also ends blocks whose release was not seen).
    for (size_t i = 0; i + 1 < blocks_.size(); ++i) {
      if (blocks_[i + 1].start == blocks_[i].start)
        blocks_[i].free_ns = std::min(blocks_[i].free_ns, blocks_[i + 1].alloc_ns);
    }
    for (AddressBlock& b : blocks_) b.free_ns = std::min(b.free_ns, end_ns);
    tracked_.clear();
    return std::move(blocks_);
  }

 private:
  struct Freed {
    uint64_t address, time;
  };

  // Each release ends the latest block at its address that started before it.
  void Settle() {
    std::sort(blocks_.begin(), blocks_.end(), [](const AddressBlock& a, const AddressBlock& b) {
      return a.start != b.start ? a.start < b.start : a.alloc_ns < b.alloc_ns;
    });
    for (const Freed& r : releases_) {
      auto it = std::upper_bound(
          blocks_.begin(), blocks_.end(), r, [](const Freed& x, const AddressBlock& b) {
            return x.address != b.start ? x.address < b.start : x.time < b.alloc_ns;
          });
      if (it == blocks_.begin()) continue;
      --it;
      if (it->start == r.address) it->free_ns = std::min(it->free_ns, r.time);
    }
    releases_.clear();
  }

  void Raise() {
    while (blocks_.size() > max_blocks_ / 2) {
      min_size_ = std::max<uint64_t>(min_size_ * 2, 64);
      std::erase_if(blocks_, [&](const AddressBlock& b) { return b.size < min_size_; });
    }
    tracked_.clear();
    for (const AddressBlock& b : blocks_) tracked_.insert(b.start);
    std::erase_if(releases_, [&](const Freed& r) { return !tracked_.count(r.address); });
  }

  size_t max_blocks_;
  uint64_t min_size_ = 1;
  std::vector<AddressBlock> blocks_;
  std::vector<Freed> releases_;
  std::unordered_set<uint64_t> tracked_;
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

AddressMapResult BuildAddressMap(const std::string& path, const AddressMapOptions& options,
                                 const std::atomic<bool>* cancel,
                                 const std::function<void(double)>& progress) {
  AddressMapResult out;
  AddressMapData& map = out.map;
  map.time_bins = std::clamp(options.time_bins, 1, 1 << CellBinner::kBinBits);
  map.duration_ns = options.duration_ns > 0 ? options.duration_ns : 1000000000;
  uint64_t start = options.start_ns;
  CellBinner cells(std::max<size_t>(options.max_cells, 16));
  BlockCollector blocks(std::max<size_t>(options.max_blocks, 16));
  auto bin_of = [&](uint64_t t) {
    if (t <= start) return uint32_t(0);
    const double share = double(t - start) / double(map.duration_ns);
    return uint32_t(std::min(map.time_bins - 1.0, share * map.time_bins));
  };
  try {
    formats::TraceReader reader(path);
    trace::TraceChunk chunk;
    while (reader.Next(&chunk)) {
      if (cancel && cancel->load(std::memory_order_relaxed)) {
        out.cancelled = true;
        return out;
      }
      if (chunk.has_header() && start == 0) start = chunk.header().start_time_ns();
      for (const trace::AllocBatch& batch : chunk.allocs()) {
        formats::AllocBatchCursor cursor(batch);
        formats::AllocEvent e;
        while (cursor.Next(&e)) {
          if (start == 0) start = e.time_ns;
          const uint64_t t = e.time_ns > start ? e.time_ns - start : 0;
          if (formats::KindIsAllocation(e.kind))
            blocks.Alloc(e.address, e.size, t);
          else if (formats::KindIsRelease(e.kind))
            blocks.Release(e.address, t);
        }
      }
      for (const trace::SampleBatch& batch : chunk.samples()) {
        formats::SampleBatchCursor cursor(batch);
        formats::AccessSample s;
        while (cursor.Next(&s)) {
          if (s.address == 0) continue;  // undecoded: no address to place
          if (start == 0) start = s.time_ns;
          cells.Add(s.address, bin_of(s.time_ns));
          ++map.samples;
        }
      }
      const auto& container = reader.container();
      if (progress && container.file_size() > 0)
        progress(double(container.offset()) / double(container.file_size()));
    }
    if (reader.error()) out.error = QString::fromStdString(reader.error()->Message());
  } catch (const std::exception& e) {
    out.error = QStringLiteral("%1: %2").arg(QString::fromStdString(path), e.what());
  }
  map.cell_shift = cells.shift();
  // Time bins merged by the binner: the map has fewer, wider ones.
  map.time_bins =
      std::max(1, (map.time_bins + (1 << cells.time_shift()) - 1) >> cells.time_shift());
  map.cells = cells.Take();
  map.min_block_bytes = blocks.min_size();
  map.blocks = blocks.Take(map.duration_ns);
  for (const AddressCell& c : map.cells) map.max_count = std::max(map.max_count, c.count);
  BuildSpans(&map, std::max<size_t>(options.max_spans, 1));
  return out;
}

}  // namespace tierscope::gui
