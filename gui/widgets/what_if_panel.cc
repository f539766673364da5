#include "widgets/what_if_panel.h"

#include <QAction>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFont>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSlider>
#include <QTableWidget>
#include <QThread>
#include <QTimer>
#include <QVBoxLayout>
#include <algorithm>
#include <map>

#include "data/site_text.h"
#include "data/what_if_plan.h"
#include "tierscope/formats/container.h"

namespace tierscope::gui {

namespace {
constexpr double kMiB = 1024.0 * 1024.0;
const QString kNotice = QStringLiteral(
    "Move a tier's capacity: the analyzer's planner (as in `tierscope plan`) re-plans the sites "
    "on a worker thread, and the fast-tier share, the stall saved and the sites' planned tier "
    "follow. The last tier takes the rest. Stall saved is an estimate from the samples and the "
    "tiers' latencies. With a trace, the plan is then replayed on it (as in `tierscope "
    "evaluate`) against the kernel's first-touch and the other policies.");
const QString kNoTrace = QStringLiteral(
    "No replay: pick another run's trace with “Replay on trace…” to see how this plan does on "
    "it against first-touch and the other policies.");

QString FileName(const QString& path) {
  return QFileInfo(path).fileName();
}
}  // namespace

WhatIfPanel::WhatIfPanel(QWidget* parent)
    : QWidget(parent),
      notice_(new QLabel(this)),
      tiers_box_(new QGroupBox(QStringLiteral("Tier capacities"), this)),
      tiers_layout_(new QVBoxLayout(tiers_box_)),
      plan_table_(new QTableWidget(this)),
      save_(new QPushButton(QStringLiteral("&Save plan as profile…"), this)),
      debounce_(new QTimer(this)),
      replay_caption_(new QLabel(this)),
      replay_table_(new QTableWidget(this)),
      replay_note_(new QLabel(this)),
      replay_action_(new QAction(QStringLiteral("&Replay on trace…"), this)),
      replay_button_(new QPushButton(QStringLiteral("Replay on &trace…"), this)),
      poll_(new QTimer(this)) {
  notice_->setWordWrap(true);
  notice_->setObjectName(QStringLiteral("whatIfNotice"));
  notice_->setText(QStringLiteral("Open a profile or a trace to plan it."));

  plan_table_->setColumnCount(3);
  plan_table_->setHorizontalHeaderLabels(
      {QStringLiteral("Plan"), QStringLiteral("Fast-tier share"), QStringLiteral("Stall saved")});
  plan_table_->verticalHeader()->hide();
  plan_table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  plan_table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);

  replay_caption_->setObjectName(QStringLiteral("replayCaption"));
  replay_caption_->setWordWrap(true);
  replay_note_->setObjectName(QStringLiteral("replayNote"));
  replay_note_->setWordWrap(true);
  replay_table_->setObjectName(QStringLiteral("replayTable"));
  replay_table_->setColumnCount(3);
  replay_table_->setHorizontalHeaderLabels(
      {QStringLiteral("Policy"), QStringLiteral("Fast-tier share"), QStringLiteral("Stall ratio")});
  replay_table_->horizontalHeaderItem(2)->setToolTip(
      QStringLiteral("Stall relative to every heap sample served by the fastest tier: 1.00 is "
                     "all fast."));
  replay_table_->verticalHeader()->hide();
  replay_table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  replay_table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  replay_action_->setToolTip(
      QStringLiteral("Replay the what-if plan on a trace, another run's for held-out figures"));
  replay_action_->setEnabled(false);
  replay_button_->setEnabled(false);
  connect(replay_action_, &QAction::triggered, this, &WhatIfPanel::ChooseReplayTrace);
  connect(replay_action_, &QAction::enabledChanged, replay_button_, &QPushButton::setEnabled);
  connect(replay_button_, &QPushButton::clicked, replay_action_, &QAction::trigger);

  save_->setEnabled(false);
  connect(save_, &QPushButton::clicked, this, &WhatIfPanel::ChooseSaveFile);
  // While the worker runs: its plan shows as soon as it is made, before the replay ends.
  poll_->setInterval(100);
  connect(poll_, &QTimer::timeout, this, &WhatIfPanel::Poll);
  // Planning 100k sites takes a moment: plan once the slider has rested for 150 ms.
  debounce_->setSingleShot(true);
  debounce_->setInterval(150);
  connect(debounce_, &QTimer::timeout, this, &WhatIfPanel::Replan);

  auto* buttons = new QHBoxLayout;
  status_ = new QLabel(this);
  status_->setObjectName(QStringLiteral("whatIfStatus"));
  buttons->addWidget(status_);
  buttons->addStretch(1);
  buttons->addWidget(save_);
  // The site-level model: the planner's own estimates, from the profile's samples.
  auto* model_box = new QGroupBox(
      QStringLiteral("Site-level model, in-sample (the profile's own samples)"), this);
  auto* model_layout = new QVBoxLayout(model_box);
  model_layout->addWidget(plan_table_);
  // The replay: every allocation of a trace placed by each policy, each sample credited.
  auto* replay_box = new QGroupBox(QStringLiteral("Replayed on a trace"), this);
  auto* replay_layout = new QVBoxLayout(replay_box);
  auto* replay_bar = new QHBoxLayout;
  replay_bar->addWidget(replay_caption_, 1);
  replay_bar->addWidget(replay_button_);
  replay_layout->addLayout(replay_bar);
  replay_layout->addWidget(replay_table_, 1);
  replay_layout->addWidget(replay_note_);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(notice_);
  layout->addWidget(tiers_box_);
  // Room in proportion to the rows: the model's five or so, the replay's seven and its lines.
  layout->addWidget(model_box, 5);
  layout->addWidget(replay_box, 9);
  layout->addLayout(buttons);
}

WhatIfPanel::~WhatIfPanel() {
  if (!worker_) return;
  job_->cancel = true;  // its replay stops at the analyzer's next check
  // The planner cannot be interrupted and a 100k-site plan can take a minute: let it finish on
  // its own (its job holds everything it touches) and free the thread then. At exit the process
  // simply ends with it.
  disconnect(worker_, nullptr, this, nullptr);
  connect(worker_, &QThread::finished, worker_, &QObject::deleteLater);
  // Already done (before or after the connect): free it now; deleting it also drops a
  // deleteLater that may have been posted.
  if (worker_->isFinished()) {
    worker_->wait();
    delete worker_;
  }
}

void WhatIfPanel::SetData(std::shared_ptr<const ProfileData> data, const QString& trace) {
  debounce_->stop();
  data_ = std::move(data);
  planned_.reset();
  pending_ = pending_announce_ = false;  // a plan still running is for the old data: dropped
  if (job_) job_->cancel = true;         // and so is its replay
  replay_trace_ = data_ ? trace : QString();
  footprint_trace_.clear();
  footprint_peak_ = 0;
  tiers_.clear();
  if (data_) tiers_ = InitialTiers(data_->profile);
  BuildControls();
  replay_action_->setEnabled(data_ != nullptr);
  if (!data_) {
    plan_table_->setRowCount(0);
    ClearReplay({});
    save_->setEnabled(false);
    return;
  }
  notice_->setText(kNotice);
  ClearReplay(replay_trace_.isEmpty()
                  ? kNoTrace
                  : QStringLiteral("Replaying %1 once the plan is made…").arg(FileName(trace)));
  // With a stored plan, the first plan fills this tab only: the other views keep showing the
  // stored plan until a capacity is moved. Without one (a trace), it is the only plan there is.
  const profile::Plan& stored = data_->profile.plan();
  Plan(stored.assignments().empty() && stored.default_tier().empty());
}

void WhatIfPanel::SetReplayTrace(const QString& trace) {
  replay_trace_ = trace;
  footprint_trace_.clear();
  footprint_peak_ = 0;
  if (!data_) return;
  ClearReplay(trace.isEmpty()
                  ? kNoTrace
                  : QStringLiteral("Replaying %1 once the plan is made…").arg(FileName(trace)));
  // The same capacities planned again: the replay runs after the plan, on the same worker. Not
  // announced: the other views already show this plan, or the stored one.
  Plan(false);
}

void WhatIfPanel::BuildControls() {
  while (QLayoutItem* item = tiers_layout_->takeAt(0)) {
    delete item->widget();
    delete item;
  }
  controls_.assign(tiers_.size(), {});
  if (!data_) return;
  uint64_t peaks = 0;
  for (const profile::Site& s : data_->profile.sites()) peaks += s.peak_live_bytes();
  slider_max_ = std::max<uint64_t>(peaks, 1 << 20);
  for (const analyzer::TierSpec& t : tiers_) slider_max_ = std::max(slider_max_, t.capacity_bytes);

  for (size_t i = 0; i < tiers_.size(); ++i) {
    const analyzer::TierSpec& tier = tiers_[i];
    const bool last = i + 1 == tiers_.size();
    auto* row = new QWidget(tiers_box_);
    auto* h = new QHBoxLayout(row);
    h->setContentsMargins(0, 0, 0, 0);
    auto* name = new QLabel(QStringLiteral("<b>%1</b> (%2 ns)")
                                .arg(QString::fromStdString(tier.name))
                                .arg(tier.latency_ns),
                            row);
    name->setMinimumWidth(160);
    h->addWidget(name);
    Controls& c = controls_[i];
    if (last) {
      h->addWidget(new QLabel(QStringLiteral("the rest"), row), 1);
    } else {
      c.slider = new QSlider(Qt::Horizontal, row);
      c.slider->setRange(0, kSliderSteps);
      c.slider->setValue(int(double(tier.capacity_bytes) / slider_max_ * kSliderSteps));
      c.slider->setAccessibleName(QStringLiteral("%1 capacity").arg(tier.name.c_str()));
      c.field = new QDoubleSpinBox(row);
      c.field->setSuffix(QStringLiteral(" MiB"));
      c.field->setDecimals(2);
      c.field->setRange(0, 1e9);
      c.field->setValue(tier.capacity_bytes / kMiB);
      c.field->setKeyboardTracking(false);  // typed digits plan once, on Enter or focus out
      const int index = int(i);
      connect(c.slider, &QSlider::valueChanged, this, [this, index](int step) {
        CapacityEdited(index, uint64_t(double(step) / kSliderSteps * slider_max_));
      });
      connect(c.field, &QDoubleSpinBox::valueChanged, this,
              [this, index](double mib) { CapacityEdited(index, uint64_t(mib * kMiB)); });
      h->addWidget(c.slider, 1);
      h->addWidget(c.field);
    }
    c.placed = new QLabel(row);
    c.placed->setMinimumWidth(220);
    h->addWidget(c.placed);
    tiers_layout_->addWidget(row);
  }
}

void WhatIfPanel::CapacityEdited(int tier, uint64_t bytes) {
  tiers_[tier].capacity_bytes = bytes;
  // Keep the other control of the pair in step without echoing back.
  Controls& c = controls_[tier];
  const QSignalBlocker a(c.slider), b(c.field);
  c.slider->setValue(int(std::min(1.0, double(bytes) / slider_max_) * kSliderSteps));
  c.field->setValue(bytes / kMiB);
  debounce_->start();
}

void WhatIfPanel::SetCapacity(int tier, uint64_t bytes) {
  if (tier < 0 || tier + 1 >= int(tiers_.size())) return;
  CapacityEdited(tier, bytes);
  Replan();
  Flush();
}

void WhatIfPanel::Replan() {
  Plan(true);
}

void WhatIfPanel::Plan(bool announce) {
  debounce_->stop();
  if (!data_) return;
  if (worker_) {
    // One plan at a time; the newest capacities are planned when the running one is done. Its
    // replay is for older capacities: it stops at the analyzer's next check.
    pending_ = true;
    pending_announce_ = pending_announce_ || announce;
    job_->cancel = true;
    return;
  }
  StartWorker(announce);
}

void WhatIfPanel::StartWorker(bool announce) {
  worker_data_ = data_;
  worker_announce_ = announce;
  worker_trace_ = replay_trace_;
  worker_plan_taken_ = false;
  const uint64_t peak = footprint_trace_ == replay_trace_ ? footprint_peak_ : 0;
  // By value: the GUI thread may change tiers_ and the trace while the worker plans.
  // The job, not the panel, holds the data: the worker may outlive the panel.
  job_ = std::make_shared<Job>();
  worker_ =
      QThread::create([job = job_, data = data_, tiers = tiers_, trace = replay_trace_, peak] {
        WhatIfResult plan = gui::Replan(*data, tiers);
        const bool planned = plan.data != nullptr;
        // From here on the GUI thread may take the plan: the worker does not touch it again.
        job->plan = std::move(plan);
        job->planned.store(true, std::memory_order_release);
        job->planned.notify_all();
        if (trace.isEmpty()) return;
        if (!planned) {
          job->replay.error = QStringLiteral("no plan to replay");
          return;
        }
        if (job->cancel.load(std::memory_order_relaxed)) {
          job->replay.cancelled = true;
          return;
        }
        Job* j = job.get();
        job->replay = ReplayPlan(
            *data, tiers, trace, &job->cancel,
            [j](double share) { j->permille.store(int(share * 1000), std::memory_order_relaxed); },
            peak);
      });
  const int generation = ++generation_;
  connect(
      worker_, &QThread::finished, this,
      [this, generation] {
        if (generation == generation_) Collect();
      },
      Qt::QueuedConnection);
  worker_->start(QThread::LowPriority);
  poll_->start();
  status_->setText(QStringLiteral("Planning %1 sites…").arg(data_->profile.sites_size()));
  // The figures shown are for the capacities before: greyed until the new replay replaces them.
  if (!worker_trace_.isEmpty()) replay_table_->setEnabled(false);
}

void WhatIfPanel::Poll() {
  if (!worker_) {
    poll_->stop();
    return;
  }
  if (!worker_plan_taken_ && job_->planned.load(std::memory_order_acquire)) TakePlan();
  if (worker_plan_taken_ && !worker_trace_.isEmpty()) {
    status_->setText(QStringLiteral("Replaying %1… %2 %")
                         .arg(FileName(worker_trace_))
                         .arg(job_->permille.load(std::memory_order_relaxed) / 10));
  }
}

void WhatIfPanel::TakePlan() {
  // Called once the worker set `planned`: the plan is the GUI thread's from then on.
  worker_plan_taken_ = true;
  WhatIfResult result = std::move(job_->plan);
  if (worker_data_ == data_) Apply(std::move(result), worker_announce_);
}

void WhatIfPanel::Collect() {
  if (!worker_) return;
  worker_->wait();
  delete worker_;
  worker_ = nullptr;
  ++generation_;  // a late `finished` of this worker is ignored
  poll_->stop();
  if (!worker_plan_taken_) TakePlan();
  const std::shared_ptr<Job> job = std::move(job_);
  const bool current = worker_data_ == data_;
  worker_data_.reset();
  WhatIfReplay& replay = job->replay;
  if (current && replay.result && replay.error.isEmpty() && worker_trace_ == replay_trace_) {
    // The peak heap is a property of the trace: later replays of it skip measuring it again.
    footprint_trace_ = worker_trace_;
    footprint_peak_ = replay.result->peak_heap_bytes;
  }
  // A replay superseded by newer capacities or another trace is not shown: the newer one follows.
  if (current && !pending_ && !worker_trace_.isEmpty() && worker_trace_ == replay_trace_ &&
      !replay.cancelled)
    ShowReplay(replay);
  if (!pending_) status_->clear();
  if (pending_) {
    const bool announce = pending_announce_;
    pending_ = pending_announce_ = false;
    StartWorker(announce);
  }
}

void WhatIfPanel::Flush() {
  if (debounce_->isActive()) Plan(true);
  while (worker_) Collect();
}

void WhatIfPanel::FlushPlan() {
  if (debounce_->isActive()) Plan(true);
  while (worker_) {
    // The running job is for older capacities: its replay was cancelled, the newest follows.
    if (pending_) {
      Collect();
      continue;
    }
    if (!worker_plan_taken_) {
      job_->planned.wait(false, std::memory_order_acquire);
      TakePlan();
    }
    return;  // the replay goes on in the background
  }
}

void WhatIfPanel::Apply(WhatIfResult result, bool announce) {
  if (!result.data) {
    last_error_ = result.error;
    notice_->setText(QStringLiteral("Cannot plan: %1").arg(result.error));
    save_->setEnabled(false);
    return;
  }
  notice_->setText(kNotice);
  planned_ = std::move(result.data);
  ShowPlan();
  save_->setEnabled(true);
  if (announce) emit PlanChanged(planned_);
}

void WhatIfPanel::ShowPlan() {
  const profile::ProfileChunk& p = planned_->profile;
  // Bytes the plan puts in each tier (peak live: what must fit) and how many sites.
  std::map<std::string, uint64_t> placed;
  std::map<std::string, int> sites;
  for (const profile::Site& site : p.sites()) {
    const std::string& tier = planned_->PlannedTier(site);
    placed[tier] += site.peak_live_bytes();
    ++sites[tier];
  }
  for (size_t i = 0; i < tiers_.size(); ++i) {
    const std::string& name = tiers_[i].name;
    controls_[i].placed->setText(
        QStringLiteral("%1 sites, %2 peak live").arg(sites[name]).arg(FormatBytes(placed[name])));
  }

  plan_table_->setRowCount(0);
  auto add_row = [&](const QString& name, double share, double stall) {
    const int r = plan_table_->rowCount();
    plan_table_->insertRow(r);
    plan_table_->setItem(r, 0, new QTableWidgetItem(name));
    plan_table_->setItem(r, 1, new QTableWidgetItem(FormatPercent(share)));
    plan_table_->setItem(r, 2, new QTableWidgetItem(FormatDuration(stall)));
  };
  const profile::Plan& plan = p.plan();
  add_row(QStringLiteral("what-if plan (%1)").arg(QString::fromStdString(plan.method())),
          plan.fast_share(), plan.stall_saved_ns());
  for (const profile::Baseline& b : plan.baselines())
    add_row(QStringLiteral("baseline: %1").arg(QString::fromStdString(b.name())), b.fast_share(),
            b.stall_saved_ns());
  // The plan stored in the file, for comparison, when there was one.
  const profile::Plan& stored = data_->profile.plan();
  if (!stored.method().empty() || !stored.assignments().empty())
    add_row(QStringLiteral("stored plan (%1)").arg(QString::fromStdString(stored.method())),
            stored.fast_share(), stored.stall_saved_ns());
}

void WhatIfPanel::ClearReplay(const QString& caption) {
  replayed_.reset();
  replay_table_->setRowCount(0);
  replay_table_->setEnabled(true);
  QFont font = replay_caption_->font();
  font.setBold(false);
  replay_caption_->setFont(font);
  replay_caption_->setText(caption);
  replay_caption_->setToolTip({});
  replay_note_->clear();
}

void WhatIfPanel::ShowReplay(const WhatIfReplay& replay) {
  if (!replay.result) {
    // One line: the file's error; nothing was replayed.
    ClearReplay(QStringLiteral("Cannot replay: %1").arg(replay.error));
    replay_caption_->setToolTip(replay.trace);
    emit Replayed(false);
    return;
  }
  replayed_ = replay.result;
  const analyzer::EvaluationResult& r = *replayed_;
  replay_table_->setEnabled(true);
  replay_table_->setRowCount(0);
  for (const analyzer::PolicyResult& p : r.policies) {
    const bool bound = !p.replayed();
    const QString name = QString::fromStdString(p.name);
    const double ratio = StallRatio(r, p);
    const QStringList cells = {bound ? QStringLiteral("upper bound: %1").arg(name) : name,
                               FormatPercent(p.fast_share),
                               ratio >= 0 ? QString::number(ratio, 'f', 2) : QStringLiteral("—")};
    const int row = replay_table_->rowCount();
    replay_table_->insertRow(row);
    for (int c = 0; c < cells.size(); ++c) {
      auto* item = new QTableWidgetItem(cells[c]);
      item->setToolTip(QString::fromStdString(p.description));
      // Bounds are not placements anyone can run: set apart in italics.
      if (bound) {
        QFont font = item->font();
        font.setItalic(true);
        item->setFont(font);
      }
      replay_table_->setItem(row, c, item);
    }
  }
  QFont font = replay_caption_->font();
  font.setBold(!r.held_out);  // an in-sample replay flatters the plan: said loudly
  replay_caption_->setFont(font);
  replay_caption_->setText(ReplayCaption(r));
  replay_caption_->setToolTip(replay.trace);
  QStringList notes;
  if (replay.partial)
    notes
        << QStringLiteral("%1 (the figures cover the complete chunks before it)").arg(replay.error);
  notes << QStringLiteral("%1 of %2 samples hit the heap; peak heap %3.")
               .arg(r.heap_samples)
               .arg(r.total_samples)
               .arg(FormatBytes(double(r.peak_heap_bytes)));
  for (const std::string& w : r.warnings) notes << QString::fromStdString(w);
  replay_note_->setText(notes.join(QLatin1Char('\n')));
  emit Replayed(true);
}

bool WhatIfPanel::SavePlan(const QString& path) {
  FlushPlan();  // save what the controls show, not the plan before the last move
  if (!planned_) {
    last_error_ = QStringLiteral("no plan to save");
    return false;
  }
  return SaveProfile(*planned_, path, &last_error_);
}

void WhatIfPanel::ChooseSaveFile() {
  const QString start =
      data_ ? QFileInfo(data_->path).path() + QStringLiteral("/planned.tsprof") : QString();
  const QString path =
      QFileDialog::getSaveFileName(this, QStringLiteral("Save plan as profile"), start,
                                   QStringLiteral("tierscope profiles (*.tsprof);;All files (*)"));
  if (path.isEmpty()) return;
  if (!SavePlan(path)) {
    auto* box = new QMessageBox(QMessageBox::Critical, QStringLiteral("Cannot save plan"),
                                last_error_, QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
  }
}

void WhatIfPanel::ChooseReplayTrace() {
  QString start = !replay_trace_.isEmpty() ? replay_trace_ : data_ ? data_->path : QString();
  if (!start.isEmpty()) start = QFileInfo(start).path();
  const QString path = QFileDialog::getOpenFileName(
      this, QStringLiteral("Replay the what-if plan on a trace"), start,
      QStringLiteral("tierscope traces (*.trace);;All files (*)"));
  if (!path.isEmpty()) PickReplayTrace(path);
}

bool WhatIfPanel::PickReplayTrace(const QString& path) {
  // Only the header, on this thread: a profile or a stranger is refused before any replay.
  formats::FileKind kind;
  QString error;
  if (ProfileSource::KindOf(path, &kind, &error) && kind != formats::FileKind::kTrace)
    error = QStringLiteral("%1 is a profile, not a trace").arg(path);
  if (!error.isEmpty()) {
    last_error_ = error;
    replay_note_->setText(QStringLiteral("Cannot replay: %1").arg(error));
    return false;
  }
  SetReplayTrace(path);
  return true;
}

}  // namespace tierscope::gui
