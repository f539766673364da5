#include "widgets/what_if_panel.h"

#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
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

namespace tierscope::gui {

namespace {
constexpr double kMiB = 1024.0 * 1024.0;
const QString kNotice = QStringLiteral(
    "Move a tier's capacity: the analyzer's planner (as in `tierscope plan`) re-plans the sites "
    "on a worker thread, and the fast-tier share, the stall saved and the sites' planned tier "
    "follow. The last tier takes the rest. Stall saved is an estimate from the samples and the "
    "tiers' latencies.");
}  // namespace

WhatIfPanel::WhatIfPanel(QWidget* parent)
    : QWidget(parent),
      notice_(new QLabel(this)),
      tiers_box_(new QGroupBox(QStringLiteral("Tier capacities"), this)),
      tiers_layout_(new QVBoxLayout(tiers_box_)),
      plan_table_(new QTableWidget(this)),
      save_(new QPushButton(QStringLiteral("&Save plan as profile…"), this)),
      debounce_(new QTimer(this)) {
  notice_->setWordWrap(true);
  notice_->setObjectName(QStringLiteral("whatIfNotice"));
  notice_->setText(QStringLiteral("Open a profile or a trace to plan it."));

  plan_table_->setColumnCount(3);
  plan_table_->setHorizontalHeaderLabels(
      {QStringLiteral("Plan"), QStringLiteral("Fast-tier share"), QStringLiteral("Stall saved")});
  plan_table_->verticalHeader()->hide();
  plan_table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  plan_table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);

  save_->setEnabled(false);
  connect(save_, &QPushButton::clicked, this, &WhatIfPanel::ChooseSaveFile);
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
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(notice_);
  layout->addWidget(tiers_box_);
  layout->addWidget(plan_table_, 1);
  layout->addLayout(buttons);
}

WhatIfPanel::~WhatIfPanel() {
  if (!worker_) return;
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

void WhatIfPanel::SetData(std::shared_ptr<const ProfileData> data) {
  debounce_->stop();
  data_ = std::move(data);
  planned_.reset();
  pending_ = pending_announce_ = false;  // a plan still running is for the old data: dropped
  tiers_.clear();
  if (data_) tiers_ = InitialTiers(data_->profile);
  BuildControls();
  if (!data_) {
    plan_table_->setRowCount(0);
    save_->setEnabled(false);
    return;
  }
  notice_->setText(kNotice);
  // With a stored plan, the first plan fills this tab only: the other views keep showing the
  // stored plan until a capacity is moved. Without one (a trace), it is the only plan there is.
  const profile::Plan& stored = data_->profile.plan();
  Plan(stored.assignments().empty() && stored.default_tier().empty());
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
    // One plan at a time; the newest capacities are planned when the running one is done.
    pending_ = true;
    pending_announce_ = pending_announce_ || announce;
    return;
  }
  StartWorker(announce);
}

void WhatIfPanel::StartWorker(bool announce) {
  worker_data_ = data_;
  worker_announce_ = announce;
  // By value: the GUI thread may change tiers_ while the worker plans.
  // The job, not the panel, holds the data: the worker may outlive the panel.
  job_ = std::make_shared<WhatIfResult>();
  worker_ = QThread::create(
      [job = job_, data = data_, tiers = tiers_] { *job = gui::Replan(*data, tiers); });
  const int generation = ++generation_;
  connect(
      worker_, &QThread::finished, this,
      [this, generation] {
        if (generation == generation_) Collect();
      },
      Qt::QueuedConnection);
  worker_->start(QThread::LowPriority);
  status_->setText(QStringLiteral("Planning %1 sites…").arg(data_->profile.sites_size()));
}

void WhatIfPanel::Collect() {
  if (!worker_) return;
  worker_->wait();
  delete worker_;
  worker_ = nullptr;
  ++generation_;  // a late `finished` of this worker is ignored
  WhatIfResult result = std::move(*job_);
  job_.reset();
  const bool current = worker_data_ == data_;
  worker_data_.reset();
  if (current) Apply(std::move(result), worker_announce_);
  if (!worker_ && !pending_) status_->clear();
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

bool WhatIfPanel::SavePlan(const QString& path) {
  Flush();  // save what the controls show, not the plan before the last move
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

}  // namespace tierscope::gui
