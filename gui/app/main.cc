// tierscope-gui [--screenshot DIR] [PROFILE]
#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>
#include <cstdio>

#include "app/main_window.h"

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
      QStringLiteral("Render every view of PROFILE into DIR/*.png, then exit (status 1 when the "
                     "profile cannot be opened)."),
      QStringLiteral("DIR"));
  parser.addOption(screenshot);
  parser.addPositionalArgument(QStringLiteral("PROFILE"), QStringLiteral("A profile to open."));
  parser.process(app);

  tierscope::gui::MainWindow window;
  window.show();
  const QStringList args = parser.positionalArguments();
  const bool opened = !args.isEmpty() && window.OpenFile(args[0]);

  if (parser.isSet(screenshot)) {
    if (!opened) {
      std::fprintf(stderr, "tierscope-gui: %s\n",
                   qPrintable(args.isEmpty() ? QStringLiteral("--screenshot needs a PROFILE")
                                             : window.last_error()));
      return 1;
    }
    // After the first paint, so every widget has its real size.
    QTimer::singleShot(0, &window, [&] {
      for (const QString& file : window.SaveScreenshots(parser.value(screenshot)))
        std::printf("%s\n", qPrintable(file));
      app.quit();
    });
  }
  return app.exec();
}
