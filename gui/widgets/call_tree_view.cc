#include "widgets/call_tree_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QSplitter>
#include <QTreeView>
#include <QVBoxLayout>

#include "models/call_tree_model.h"
#include "widgets/flame_graph_widget.h"

namespace tierscope::gui {

CallTreeView::CallTreeView(QWidget* parent)
    : QWidget(parent),
      model_(new CallTreeModel(this)),
      direction_(new QComboBox(this)),
      measure_(new QComboBox(this)),
      search_(new QLineEdit(this)),
      tree_(new QTreeView(this)),
      flame_(new FlameGraphWidget(this)) {
  direction_->addItems(
      {QStringLiteral("Top-down (from main)"), QStringLiteral("Bottom-up (from the allocator)")});
  for (Measure m : {Measure::kBytes, Measure::kPeakLive, Measure::kSamples})
    measure_->addItem(MeasureName(m));
  search_->setPlaceholderText(QStringLiteral("Highlight frames…"));
  search_->setClearButtonEnabled(true);

  auto* bar = new QHBoxLayout;
  auto* direction_label = new QLabel(QStringLiteral("&Direction:"), this);
  direction_label->setBuddy(direction_);
  auto* measure_label = new QLabel(QStringLiteral("Box &size:"), this);
  measure_label->setBuddy(measure_);
  auto* search_label = new QLabel(QStringLiteral("&Search:"), this);
  search_label->setBuddy(search_);
  bar->addWidget(direction_label);
  bar->addWidget(direction_);
  bar->addWidget(measure_label);
  bar->addWidget(measure_);
  bar->addWidget(search_label);
  bar->addWidget(search_, 1);

  tree_->setModel(model_);
  tree_->setUniformRowHeights(true);  // lets the view skip measuring rows it does not show
  tree_->setAlternatingRowColors(true);
  tree_->header()->setStretchLastSection(false);
  tree_->setColumnWidth(CallTreeModel::kFrame, 280);

  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(tree_);
  split->addWidget(flame_);
  split->setSizes({420, 860});

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(bar);
  layout->addWidget(split, 1);

  connect(direction_, &QComboBox::currentIndexChanged, this, [this] { Rebuild(); });
  connect(measure_, &QComboBox::currentIndexChanged, this, [this](int index) {
    model_->SetMeasure(static_cast<Measure>(index));
    flame_->SetMeasure(static_cast<Measure>(index));
  });
  connect(search_, &QLineEdit::textChanged, flame_, &FlameGraphWidget::SetSearch);
  connect(tree_->selectionModel(), &QItemSelectionModel::currentChanged, this,
          [this](const QModelIndex& current) {
            if (current.isValid()) flame_->ZoomTo(model_->NodeAt(current));
          });
}

void CallTreeView::SetData(std::shared_ptr<const ProfileData> data) {
  data_ = std::move(data);
  Rebuild();
}

void CallTreeView::SetDirection(Direction direction) {
  direction_->setCurrentIndex(static_cast<int>(direction));
}

void CallTreeView::SetMeasure(Measure measure) {
  measure_->setCurrentIndex(static_cast<int>(measure));
}

void CallTreeView::Rebuild() {
  std::shared_ptr<CallTree> tree;
  if (data_)
    tree = std::make_shared<CallTree>(data_, static_cast<Direction>(direction_->currentIndex()));
  const auto measure = static_cast<Measure>(measure_->currentIndex());
  model_->SetTree(tree, measure);
  flame_->SetTree(tree);
  flame_->SetMeasure(measure);
  if (tree) tree_->expandToDepth(0);
}

}  // namespace tierscope::gui
