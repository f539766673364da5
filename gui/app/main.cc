// tierscope-gui [--screenshot DIR] [--replay TRACE] [PROFILE|TRACE]
#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>
#include <cstdio>

#include "app/main_window.h"
#include "widgets/what_if_panel.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("tierscope"));
  QApplication::setApplicationName(QStringLiteral("tierscope-gui"));
  QApplication::setApplicationVersion(QStringLiteral("0.1.0"));

  QCommandLineParser parser;
  parser.setApplicationDescription(
      QStringLiteral("Viewer for tierscope profiles: where memory is hot and which tier it gets."));
  parser.addHelpOption();
  parser.addVersionOption();
  QCommandLineOption screenshot(
      QStringLiteral("screenshot"),
      QStringLiteral("Render every view of FILE into DIR/*.png, then exit (status 1 when the "
                     "file cannot be opened)."),
      QStringLiteral("DIR"));
  parser.addOption(screenshot);
  QCommandLineOption replay(
      QStringLiteral("replay"),
      QStringLiteral("Replay the what-if plan on TRACE, another run's for held-out figures (as "
                     "`tierscope evaluate --profile FILE TRACE`); the what-if's \"Replay on "
                     "trace…\" does the same."),
      QStringLiteral("TRACE"));
  parser.addOption(replay);
  parser.addPositionalArgument(QStringLiteral("FILE"),
                               QStringLiteral("A profile, or a trace to analyze, to open."));
  parser.process(app);

  tierscope::gui::MainWindow window;
  window.show();
  const QStringList args = parser.positionalArguments();
  // Before the screenshot's handler: the what-if replays TRACE before the views are rendered.
  // Once: a file opened later starts over without it.
  if (parser.isSet(replay)) {
    QObject::connect(
        &window, &tierscope::gui::MainWindow::LoadFinished, &window,
        [&](bool ok) {
          if (ok) window.what_if()->SetReplayTrace(parser.value(replay));
        },
        Qt::SingleShotConnection);
  }
  if (parser.isSet(screenshot)) {
    if (args.isEmpty()) {
      std::fprintf(stderr, "tierscope-gui: --screenshot needs a PROFILE or TRACE\n");
      return 2;
    }
    // A trace finishes later, on its worker thread: act on LoadFinished, after the next paint so
    // every widget has its real size.
    QObject::connect(&window, &tierscope::gui::MainWindow::LoadFinished, &window, [&](bool ok) {
      QTimer::singleShot(0, &window, [&, ok] {
        if (!ok) {
          std::fprintf(stderr, "tierscope-gui: %s\n", qPrintable(window.last_error()));
          app.exit(1);
          return;
        }
        for (const QString& file : window.SaveScreenshots(parser.value(screenshot)))
          std::printf("%s\n", qPrintable(file));
        app.quit();
      });
    });
  }
  if (!args.isEmpty()) window.OpenFile(args[0]);
  return app.exec();
}
