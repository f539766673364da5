// Runs AnalyzeTraceFile on a worker thread so the window keeps painting and answering while a
// large trace is read. Progress crosses threads as one atomic that a GUI-thread timer polls (no
// signal per progress call); the result comes back through QThread::finished, queued to the GUI
// thread. One analysis at a time: starting another cancels and joins the running one.
#pragma once

#include <QObject>
#include <QString>
#include <atomic>

#include "data/trace_analysis.h"

class QThread;
class QTimer;

namespace tierscope::gui {

class TraceLoader : public QObject {
  Q_OBJECT
 public:
  explicit TraceLoader(QObject* parent = nullptr);
  // Cancels and waits for a running analysis: the worker never outlives the window.
  ~TraceLoader() override;

  void Start(const QString& path);
  // Asks the analysis to stop at its next check; Finished follows with cancelled set.
  void Cancel();
  bool busy() const { return thread_ != nullptr; }
  const QString& path() const { return path_; }

 signals:
  void Progress(int permille);
  void Finished(const tierscope::gui::TraceAnalysis& result);

 private:
  void StopAndJoin();

  QThread* thread_ = nullptr;
  QTimer* poll_;
  QString path_;
  int generation_ = 0;  // tells a run's late `finished` from the current run's
  std::atomic<bool> cancel_{false};
  std::atomic<int> permille_{0};
  TraceAnalysis result_;  // written by the worker, read after it finished
};

}  // namespace tierscope::gui
