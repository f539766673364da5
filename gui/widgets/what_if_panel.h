// The what-if tab: one capacity control (slider + MiB field) per tier but the last, which takes
// the rest. A change re-plans through the analyzer's planner on a worker thread (after a short
// pause, so dragging a slider does not queue a plan per pixel; planning 100k sites takes about a
// second, which must not freeze the window) and updates the expected fast-tier share, the stall
// saved, the baselines and, through PlanChanged, the sites table's planned tier column. Those are
// the site-level model's figures, in-sample. When a trace is at hand (the one the viewer opened,
// or another run's picked with "Replay on trace…"), the same worker then replays it
// (analyzer::PlanAndEvaluate) and a second table shows each policy's and bound's fast-tier share
// and stall ratio, with a caption saying whether the trace was held out.
// "Save plan as profile…" writes the re-planned profile for the placer.
#pragma once

#include <QString>
#include <QWidget>
#include <atomic>
#include <memory>
#include <optional>
#include <vector>

#include "data/profile_source.h"
#include "data/what_if_plan.h"
#include "tierscope/analyzer/tiers.h"

class QAction;
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
  // `trace`: the trace `data` was analyzed from, replayed after every plan (in-sample); empty for
  // a profile, which is replayed only once a trace is picked. A picked trace lasts until the next
  // SetData.
  void SetData(std::shared_ptr<const ProfileData> data, const QString& trace = {});
  // Replays `trace` (another run's, typically) after this and every later plan; re-plans now.
  // Empty: no replay.
  void SetReplayTrace(const QString& trace);
  // What "Replay on trace…" does with the chosen file: SetReplayTrace for a trace; false, with a
  // one-line note in the panel and last_error(), for anything else.
  bool PickReplayTrace(const QString& path);

  // Sets tier `tier`'s capacity as the controls would, re-plans and waits for the plan (and its
  // replay, with a trace).
  void SetCapacity(int tier, uint64_t bytes);
  // Starts a plan with the controls' capacities (the debounce timer calls this).
  void Replan();
  // Waits for the plans and replays asked for so far and shows the last (screenshots need it).
  void Flush();
  // Waits for the newest plan only, not its replay (saving needs it).
  void FlushPlan();
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
  const QString& replay_trace() const { return replay_trace_; }
  // The last replay shown (none before the first, or after an error without figures).
  const std::optional<analyzer::EvaluationResult>& replayed() const { return replayed_; }
  QTableWidget* replay_table() const { return replay_table_; }
  QLabel* replay_caption() const { return replay_caption_; }
  QLabel* replay_note() const { return replay_note_; }
  QAction* replay_action() const { return replay_action_; }
  QPushButton* replay_button() const { return replay_button_; }
  QSlider* slider(int tier) const { return controls_.at(tier).slider; }
  QDoubleSpinBox* field(int tier) const { return controls_.at(tier).field; }
  const QString& last_error() const { return last_error_; }

 signals:
  void PlanChanged(std::shared_ptr<const tierscope::gui::ProfileData> planned);
  // After every replay shown, or its error (ok false).
  void Replayed(bool ok);

 private:
  struct Controls {
    QSlider* slider = nullptr;  // null for the last tier
    QDoubleSpinBox* field = nullptr;
    QLabel* placed = nullptr;
  };
  // What one worker run makes: the plan, then (with a trace) its replay. The job, not the
  // panel, holds it: the worker may outlive the panel.
  struct Job {
    WhatIfResult plan;  // written by the worker before `planned` is set
    std::atomic<bool> planned{false};
    WhatIfReplay replay;              // written by the worker, read after it finished
    std::atomic<bool> cancel{false};  // set when a newer request supersedes the replay
    std::atomic<int> permille{0};     // the replay's progress
  };
  void BuildControls();
  void Plan(bool announce);
  void StartWorker(bool announce);
  void Poll();
  void TakePlan();
  void Collect();
  void Apply(WhatIfResult result, bool announce);
  void ShowPlan();
  void ShowReplay(const WhatIfReplay& replay);
  void ClearReplay(const QString& caption);
  void ChooseSaveFile();
  void ChooseReplayTrace();
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
  // The replay: the trace, its caption, figures and warnings.
  QString replay_trace_;
  std::optional<analyzer::EvaluationResult> replayed_;
  QLabel* replay_caption_;
  QTableWidget* replay_table_;
  QLabel* replay_note_;  // warnings, or the one-line error
  QAction* replay_action_;
  QPushButton* replay_button_;
  // The trace's peak heap, measured by its first replay: later replays skip that pass.
  QString footprint_trace_;
  uint64_t footprint_peak_ = 0;
  // The planning worker: one at a time, the newest request queued behind it (and cancelling the
  // replay of the running one).
  QThread* worker_ = nullptr;
  std::shared_ptr<const ProfileData> worker_data_;  // its result is dropped if data_ changed
  bool worker_announce_ = false;
  QString worker_trace_;            // what the running job replays ("" for none)
  bool worker_plan_taken_ = false;  // its plan was shown before the replay ended
  bool pending_ = false, pending_announce_ = false;
  int generation_ = 0;
  std::shared_ptr<Job> job_;
  QTimer* poll_;    // while the worker runs: shows its plan once made, and the replay's progress
  QLabel* status_;  // "Planning N sites…" / "Replaying …" while the worker runs
};

}  // namespace tierscope::gui
