#include "app/trace_loader.h"

#include <QThread>
#include <QTimer>

namespace tierscope::gui {

TraceLoader::TraceLoader(QObject* parent) : QObject(parent), poll_(new QTimer(this)) {
  // 10 updates a second are smooth enough and cost nothing.
  poll_->setInterval(100);
  connect(poll_, &QTimer::timeout, this, [this] { emit Progress(permille_.load()); });
}

TraceLoader::~TraceLoader() {
  StopAndJoin();
}

void TraceLoader::StopAndJoin() {
  if (!thread_) return;
  cancel_ = true;
  // The analysis checks the flag between chunks and events, so this wait is short.
  thread_->wait();
  delete thread_;
  thread_ = nullptr;
  poll_->stop();
  ++generation_;
}

void TraceLoader::Start(const QString& path) {
  StopAndJoin();
  path_ = path;
  cancel_ = false;
  permille_ = 0;
  result_ = {};
  thread_ = QThread::create([this, path] {
    result_ =
        AnalyzeTraceFile(path, &cancel_, [this](double share) { permille_ = int(share * 1000); });
  });
  const int generation = ++generation_;
  // Queued: `finished` is emitted on the worker thread, the slot runs on ours.
  connect(
      thread_, &QThread::finished, this,
      [this, generation] {
        if (generation != generation_ || !thread_) return;  // superseded, joined by StopAndJoin
        thread_->wait();
        delete thread_;
        thread_ = nullptr;
        poll_->stop();
        emit Progress(1000);
        TraceAnalysis result = std::move(result_);
        result_ = {};
        emit Finished(result);
      },
      Qt::QueuedConnection);
  poll_->start();
  emit Progress(0);
  thread_->start(QThread::LowPriority);
}

void TraceLoader::Cancel() {
  cancel_ = true;
}

}  // namespace tierscope::gui
