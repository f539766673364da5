// The what-if tab. Until the analyzer's planner is linked in, it shows the stored plan read-only:
// per-tier capacity (as a disabled slider), fast-tier share against the baselines, and a notice
// that the live what-if needs tierscope_analyzer. It never invents a plan of its own.
#pragma once

#include <QWidget>
#include <memory>

#include "data/profile_source.h"

class QLabel;
class QTableWidget;
class QVBoxLayout;

namespace tierscope::gui {

class WhatIfPanel : public QWidget {
  Q_OBJECT
 public:
  explicit WhatIfPanel(QWidget* parent = nullptr);
  void SetData(std::shared_ptr<const ProfileData> data);

  QTableWidget* plan_table() const { return plan_table_; }
  QLabel* notice() const { return notice_; }

 private:
  std::shared_ptr<const ProfileData> data_;
  QLabel* notice_;
  QWidget* tiers_;  // rebuilt per profile: one row of controls per tier
  QVBoxLayout* tiers_layout_;
  QTableWidget* plan_table_;
};

}  // namespace tierscope::gui
