// Call tree over the sites' stacks, built lazily: a node's children are computed the first time
// someone asks for them, so a 100k-site profile costs only the levels actually shown.
#pragma once

#include <QString>
#include <memory>
#include <vector>

#include "data/profile_source.h"

namespace tierscope::gui {

enum class Direction { kTopDown, kBottomUp };  // from main() down / from the allocator up
enum class Measure { kBytes, kPeakLive, kSamples };

QString MeasureName(Measure measure);
double SiteMeasure(const profile::Site& site, Measure measure);

struct CallNode {
  QString frame;  // function (or raw address); "all sites" at the root
  QString module;
  CallNode* parent = nullptr;
  int row = 0;                  // index in parent's children
  int depth = 0;                // root = 0; frame index = depth - 1
  std::vector<int> sites;       // indices into profile.sites() whose stacks pass through here
  double value[3] = {0, 0, 0};  // per Measure
  double max_temperature = 0;   // hottest site below: the colour of the box

  double Value(Measure m) const { return value[static_cast<int>(m)]; }

 private:
  friend class CallTree;
  bool expanded_ = false;
  std::vector<std::unique_ptr<CallNode>> children_;
};

class CallTree {
 public:
  CallTree(std::shared_ptr<const ProfileData> data, Direction direction);
  CallNode* root() { return root_.get(); }
  Direction direction() const { return direction_; }
  const ProfileData& data() const { return *data_; }
  double max_temperature() const { return root_->max_temperature; }

  // Builds the children on first call; sorted by bytes, largest first.
  const std::vector<std::unique_ptr<CallNode>>& Children(CallNode* node);
  // Cheap: whether any site's stack goes deeper than this node.
  bool HasChildren(const CallNode* node) const;

 private:
  QString FrameAt(int site, int depth, QString* module) const;  // frame `depth` in `direction_`
  int StackDepth(int site) const;

  std::shared_ptr<const ProfileData> data_;
  Direction direction_;
  std::unique_ptr<CallNode> root_;
  std::vector<int> depth_of_site_;  // frames in each site's stack (inlined ones included)
};

}  // namespace tierscope::gui
