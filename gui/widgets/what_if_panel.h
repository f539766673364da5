// The what-if tab: one capacity control (slider + MiB field) per tier but the last, which takes
// the rest. A change re-plans through the analyzer's planner on a worker thread (after a short
// pause, so dragging a slider does not queue a plan per pixel; planning 100k sites takes about a
// second, which must not freeze the window) and updates the expected fast-tier share, the stall
// saved, the baselines and, through PlanChanged, the sites table's planned tier column.
// "Save plan as profile…" writes the re-planned profile for the placer.
#pragma once

#include <QWidget>
#include <memory>
#include <vector>

#include "data/profile_source.h"
#include "data/what_if_plan.h"
#include "tierscope/analyzer/plan.h"

class QDoubleSpinBox;
class QLabel;
class QPushButton;
class QSlider;
class QTableWidget;
class QThread;
class QTimer;
class QVBoxLayout;

namespace tierscope::gui {

class WhatIfPanel : public QWidget {
  Q_OBJECT
 public:
  static constexpr int kSliderSteps = 1000;

  explicit WhatIfPanel(QWidget* parent = nullptr);
  ~WhatIfPanel() override;
  void SetData(std::shared_ptr<const ProfileData> data);

  // Sets tier `tier`'s capacity as the controls would, re-plans and waits for the plan.
  void SetCapacity(int tier, uint64_t bytes);
  // Starts a plan with the controls' capacities (the debounce timer calls this).
  void Replan();
  // Waits for the plans asked for so far and shows the last (saving and screenshots need it).
  void Flush();
  bool planning() const { return worker_ != nullptr; }
  QThread* worker() const { return worker_; }
  // Writes the current plan; false with the error in last_error().
  bool SavePlan(const QString& path);

  const std::vector<analyzer::TierSpec>& tiers() const { return tiers_; }
  // The profile as re-planned last (null before the first plan or when the tiers are unusable).
  const std::shared_ptr<const ProfileData>& planned() const { return planned_; }
  QTableWidget* plan_table() const { return plan_table_; }
  QLabel* notice() const { return notice_; }
  QPushButton* save_button() const { return save_; }
  QSlider* slider(int tier) const { return controls_.at(tier).slider; }
  QDoubleSpinBox* field(int tier) const { return controls_.at(tier).field; }
  const QString& last_error() const { return last_error_; }

 signals:
  void PlanChanged(std::shared_ptr<const tierscope::gui::ProfileData> planned);

 private:
  struct Controls {
    QSlider* slider = nullptr;  // null for the last tier
    QDoubleSpinBox* field = nullptr;
    QLabel* placed = nullptr;
  };
  void BuildControls();
  void Plan(bool announce);
  void StartWorker(bool announce);
  void Collect();
  void Apply(WhatIfResult result, bool announce);
  void ShowPlan();
  void ChooseSaveFile();
  void CapacityEdited(int tier, uint64_t bytes);

  std::shared_ptr<const ProfileData> data_;
  std::shared_ptr<const ProfileData> planned_;
  std::vector<analyzer::TierSpec> tiers_;
  std::vector<Controls> controls_;
  uint64_t slider_max_ = 0;  // bytes at the slider's right end
  QString last_error_;
  QLabel* notice_;
  QWidget* tiers_box_;  // rebuilt per profile: one row of controls per tier
  QVBoxLayout* tiers_layout_;
  QTableWidget* plan_table_;
  QPushButton* save_;
  QTimer* debounce_;
  // The planning worker: one at a time, the newest request queued behind it.
  QThread* worker_ = nullptr;
  std::shared_ptr<const ProfileData> worker_data_;  // its result is dropped if data_ changed
  bool worker_announce_ = false;
  bool pending_ = false, pending_announce_ = false;
  int generation_ = 0;
  std::shared_ptr<WhatIfResult> job_;  // written by the worker, read after it finished
  QLabel* status_;                     // "Planning N sites…" while the worker runs
};

}  // namespace tierscope::gui
