#include "data/call_tree.h"

#include <algorithm>
#include <unordered_map>

#include "data/site_text.h"

namespace tierscope::gui {

QString MeasureName(Measure measure) {
  switch (measure) {
    case Measure::kBytes:
      return QStringLiteral("Bytes");
    case Measure::kPeakLive:
      return QStringLiteral("Peak live");
    case Measure::kSamples:
      return QStringLiteral("Samples");
  }
  return {};
}

double SiteMeasure(const profile::Site& site, Measure measure) {
  switch (measure) {
    case Measure::kBytes:
      return double(site.bytes());
    case Measure::kPeakLive:
      return double(site.peak_live_bytes());
    case Measure::kSamples:
      return double(SiteSamples(site));
  }
  return 0;
}

namespace {

void AddSite(CallNode* node, const profile::Site& site, int index) {
  node->sites.push_back(index);
  for (int m = 0; m < 3; ++m) node->value[m] += SiteMeasure(site, static_cast<Measure>(m));
  node->max_temperature = std::max(node->max_temperature, site.temperature());
}

}  // namespace

CallTree::CallTree(std::shared_ptr<const ProfileData> data, Direction direction)
    : data_(std::move(data)), direction_(direction), root_(std::make_unique<CallNode>()) {
  root_->frame = QStringLiteral("all sites");
  const auto& sites = data_->profile.sites();
  depth_of_site_.resize(sites.size());
  for (int i = 0; i < sites.size(); ++i) {
    int depth = 0;
    for (const profile::Location& loc : sites[i].stack()) depth += std::max(1, loc.lines_size());
    depth_of_site_[i] = depth;
    AddSite(root_.get(), sites[i], i);
  }
}

int CallTree::StackDepth(int site) const {
  return depth_of_site_[site];
}

QString CallTree::FrameAt(int site, int depth, QString* module) const {
  std::vector<Frame> frames = SiteFrames(data_->profile.sites(site));
  // Frames come innermost first: bottom-up walks them in order, top-down from the end.
  int index = direction_ == Direction::kBottomUp ? depth : int(frames.size()) - 1 - depth;
  *module = frames[index].module;
  return frames[index].function;
}

bool CallTree::HasChildren(const CallNode* node) const {
  if (node->expanded_) return !node->children_.empty();
  for (int site : node->sites)
    if (StackDepth(site) > node->depth) return true;
  return false;
}

const std::vector<std::unique_ptr<CallNode>>& CallTree::Children(CallNode* node) {
  if (node->expanded_) return node->children_;
  node->expanded_ = true;
  std::unordered_map<QString, CallNode*> by_frame;
  const auto& sites = data_->profile.sites();
  for (int site : node->sites) {
    if (StackDepth(site) <= node->depth) continue;  // the stack ends here: self, no child
    QString module;
    QString frame = FrameAt(site, node->depth, &module);
    CallNode*& child = by_frame[frame];
    if (!child) {
      node->children_.push_back(std::make_unique<CallNode>());
      child = node->children_.back().get();
      child->frame = frame;
      child->module = module;
      child->parent = node;
      child->depth = node->depth + 1;
    }
    AddSite(child, sites[site], site);
  }
  std::stable_sort(node->children_.begin(), node->children_.end(),
                   [](const auto& a, const auto& b) {
                     return a->Value(Measure::kBytes) > b->Value(Measure::kBytes);
                   });
  for (size_t i = 0; i < node->children_.size(); ++i) node->children_[i]->row = int(i);
  return node->children_;
}

}  // namespace tierscope::gui
