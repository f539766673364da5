#include "widgets/what_if_panel.h"

#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSlider>
#include <QTableWidget>
#include <QVBoxLayout>
#include <map>

#include "data/site_text.h"

namespace tierscope::gui {

WhatIfPanel::WhatIfPanel(QWidget* parent)
    : QWidget(parent),
      notice_(new QLabel(this)),
      tiers_(new QGroupBox(QStringLiteral("Tier capacities"), this)),
      tiers_layout_(new QVBoxLayout(tiers_)),
      plan_table_(new QTableWidget(this)) {
  notice_->setWordWrap(true);
  notice_->setText(QStringLiteral(
      "Showing the plan stored in the profile, read-only. The live what-if (move a tier's "
      "capacity and see the plan, its fast-tier share and stall savings update) needs the "
      "analyzer's planner (tierscope_analyzer), which this build of tierscope-gui does not link "
      "yet. Re-plan from the command line with `tierscope analyze`."));
  notice_->setObjectName(QStringLiteral("whatIfNotice"));

  plan_table_->setColumnCount(3);
  plan_table_->setHorizontalHeaderLabels(
      {QStringLiteral("Plan"), QStringLiteral("Fast-tier share"), QStringLiteral("Stall saved")});
  plan_table_->verticalHeader()->hide();
  plan_table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  plan_table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(notice_);
  layout->addWidget(tiers_);
  layout->addWidget(plan_table_, 1);
}

void WhatIfPanel::SetData(std::shared_ptr<const ProfileData> data) {
  data_ = std::move(data);
  while (QLayoutItem* item = tiers_layout_->takeAt(0)) {
    delete item->widget();
    delete item;
  }
  plan_table_->setRowCount(0);
  if (!data_) return;
  const profile::ProfileChunk& p = data_->profile;

  // Bytes the stored plan puts in each tier (peak live: what must fit).
  std::map<std::string, uint64_t> placed;
  for (const profile::Site& site : p.sites())
    placed[data_->PlannedTier(site)] += site.peak_live_bytes();

  for (const profile::Tier& tier : p.tiers()) {
    auto* row = new QWidget(tiers_);
    auto* h = new QHBoxLayout(row);
    h->setContentsMargins(0, 0, 0, 0);
    auto* name = new QLabel(QStringLiteral("<b>%1</b> (%2 ns, %3)")
                                .arg(QString::fromStdString(tier.name()))
                                .arg(tier.latency_ns())
                                .arg(QString::fromStdString(tier.policy())),
                            row);
    name->setMinimumWidth(200);
    auto* slider = new QSlider(Qt::Horizontal, row);
    // MiB steps; disabled: moving it would need the planner to mean anything.
    const uint64_t capacity_mib = tier.capacity_bytes() >> 20;
    slider->setRange(0, int(std::min<uint64_t>(std::max<uint64_t>(capacity_mib * 2, 1), 1 << 30)));
    slider->setValue(int(std::min<uint64_t>(capacity_mib, 1 << 30)));
    slider->setEnabled(false);
    slider->setToolTip(QStringLiteral("Needs the analyzer's planner"));
    auto* value = new QLabel(QStringLiteral("capacity %1, plan places %2 (peak live)")
                                 .arg(tier.capacity_bytes() ? FormatBytes(tier.capacity_bytes())
                                                            : QStringLiteral("unlimited"),
                                      FormatBytes(placed[tier.name()])),
                             row);
    h->addWidget(name);
    h->addWidget(slider, 1);
    h->addWidget(value);
    tiers_layout_->addWidget(row);
  }
  if (p.tiers().empty())
    tiers_layout_->addWidget(new QLabel(QStringLiteral("The profile describes no tiers."), tiers_));

  auto add_row = [&](const QString& name, double share, double stall) {
    const int r = plan_table_->rowCount();
    plan_table_->insertRow(r);
    plan_table_->setItem(r, 0, new QTableWidgetItem(name));
    plan_table_->setItem(r, 1, new QTableWidgetItem(FormatPercent(share)));
    plan_table_->setItem(r, 2, new QTableWidgetItem(FormatDuration(stall)));
  };
  const profile::Plan& plan = p.plan();
  if (!plan.method().empty() || !plan.assignments().empty())
    add_row(QStringLiteral("stored plan (%1)").arg(QString::fromStdString(plan.method())),
            plan.fast_share(), plan.stall_saved_ns());
  for (const profile::Baseline& b : plan.baselines())
    add_row(QStringLiteral("baseline: %1").arg(QString::fromStdString(b.name())), b.fast_share(),
            b.stall_saved_ns());
}

}  // namespace tierscope::gui
