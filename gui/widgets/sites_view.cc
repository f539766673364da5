#include "widgets/sites_view.h"

#include <QComboBox>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include "data/site_text.h"
#include "models/sites_filter_model.h"
#include "models/sites_model.h"
#include "widgets/lifetime_chart.h"

namespace tierscope::gui {

SitesView::SitesView(QWidget* parent)
    : QWidget(parent),
      model_(new SitesModel(this)),
      proxy_(new SitesFilterModel(this)),
      filter_(new QLineEdit(this)),
      field_(new QComboBox(this)),
      table_(new QTableView(this)),
      stack_(new QPlainTextEdit(this)),
      lifetime_(new LifetimeChart(this)) {
  proxy_->setSourceModel(model_);

  filter_->setPlaceholderText(QStringLiteral("Filter sites (Ctrl+F)…"));
  filter_->setClearButtonEnabled(true);
  filter_->setObjectName(QStringLiteral("siteFilter"));
  field_->addItems({QStringLiteral("function, module or file"), QStringLiteral("function"),
                    QStringLiteral("module"), QStringLiteral("file")});
  auto* bar = new QHBoxLayout;
  auto* label = new QLabel(QStringLiteral("&Filter:"), this);
  label->setBuddy(filter_);
  bar->addWidget(label);
  bar->addWidget(filter_, 1);
  bar->addWidget(new QLabel(QStringLiteral("in"), this));
  bar->addWidget(field_);

  table_->setModel(proxy_);
  table_->setSortingEnabled(true);
  table_->sortByColumn(SitesModel::kTemperature, Qt::DescendingOrder);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setAlternatingRowColors(true);
  table_->verticalHeader()->hide();
  // Fixed row height and no per-row sizing: 100k rows stay cheap.
  table_->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
  table_->verticalHeader()->setDefaultSectionSize(table_->fontMetrics().height() + 6);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
  table_->horizontalHeader()->setStretchLastSection(true);
  // Fixed widths, not ResizeToContents: measuring 100k rows would stall the view.
  for (int c = SitesModel::kTemperature; c <= SitesModel::kLifetime; ++c)
    table_->setColumnWidth(c, 82);
  table_->setColumnWidth(SitesModel::kFunction, 230);
  table_->setColumnWidth(SitesModel::kModule, 130);
  table_->setColumnWidth(SitesModel::kSource, 170);
  table_->setColumnWidth(SitesModel::kTemperature, 100);

  stack_->setReadOnly(true);
  stack_->setLineWrapMode(QPlainTextEdit::NoWrap);
  stack_->setPlaceholderText(QStringLiteral("Select a site to see its stack"));
  stack_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));

  auto* split = new QSplitter(Qt::Vertical, this);
  auto* detail = new QSplitter(Qt::Horizontal, this);
  detail->addWidget(stack_);
  detail->addWidget(lifetime_);
  detail->setSizes({800, 400});
  split->addWidget(table_);
  split->addWidget(detail);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 1);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(bar);
  layout->addWidget(split, 1);

  connect(filter_, &QLineEdit::textChanged, this, &SitesView::ApplyFilter);
  connect(field_, &QComboBox::currentIndexChanged, this, &SitesView::ApplyFilter);
  connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          [this](const QModelIndex& current) { ShowSite(current); });
}

void SitesView::SetData(std::shared_ptr<const ProfileData> data) {
  model_->SetData(std::move(data));
  stack_->clear();
  if (proxy_->rowCount() > 0) table_->selectRow(0);
}

void SitesView::ApplyFilter() {
  proxy_->SetFilter(filter_->text(), static_cast<SitesFilterModel::Field>(field_->currentIndex()));
}

void SitesView::ShowSite(const QModelIndex& proxy_index) {
  const ProfileData* data = model_->profile_data();
  if (!proxy_index.isValid() || !data) {
    stack_->clear();
    lifetime_->SetSite(nullptr);
    return;
  }
  const int row = proxy_->mapToSource(proxy_index).row();
  const profile::Site& site = data->profile.sites(row);
  QStringList text;
  text << QStringLiteral("site %1 — %2 allocations, %3, peak live %4, planned tier: %5")
              .arg(site.id())
              .arg(site.allocations())
              .arg(FormatBytes(site.bytes()), FormatBytes(site.peak_live_bytes()),
                   QString::fromStdString(data->PlannedTier(site)).isEmpty()
                       ? QStringLiteral("(no plan)")
                       : QString::fromStdString(data->PlannedTier(site)));
  text << QString();
  text << StackLines(site);
  stack_->setPlainText(text.join('\n'));
  lifetime_->SetSite(&site);
}

}  // namespace tierscope::gui
