// Starts the real tierscope-gui under Xvfb (xvfb-run starts and always stops its own server) on
// a generated kvcache profile, on a trace recorded from the kvcache example (its what-if replayed
// in-sample, then on a second recorded run) and on a trace recorded from a real program (CPython),
// has it render every view, and checks the screenshots are not blank. The README's screenshots in
// docs/screenshots/ are kept from the recorded runs only, never from the generated profile.
#include <gtest/gtest.h>

#include <QDir>
#include <QFileInfo>
#include <QImage>
#include <set>

#include "profile_generator.h"
#include "test_support.h"
#include "tierscope/formats/profile_io.h"

namespace tierscope::gui {
namespace {

using tierscope::testing::RunCommand;
using tierscope::testing::TempDir;

std::string GuiBin() {
  return tierscope::testing::BuildDir() + "/bin/tierscope-gui";
}

// xvfb-run -a picks a free display; -e keeps the server's complaints out of our stderr parsing.
std::vector<std::string> UnderXvfb(std::vector<std::string> argv) {
  std::vector<std::string> cmd = {"/usr/bin/xvfb-run", "-a", "-s", "-screen 0 1400x900x24"};
  cmd.insert(cmd.end(), argv.begin(), argv.end());
  return cmd;
}

// Copies `view`'s screenshot from `shots` into docs/screenshots/ (for the README).
void KeepForReadme(const std::string& shots, const char* view) {
  const QString docs =
      QString::fromStdString(tierscope::testing::SourceDir()) + "/docs/screenshots";
  QDir().mkpath(docs);
  const QString kept = docs + "/" + view + ".png";
  QFile::remove(kept);
  EXPECT_TRUE(QFile::copy(QString::fromStdString(shots) + "/" + view + ".png", kept))
      << kept.toStdString();
}

// Not blank: many colours, and a good share of pixels differ from the most common one.
void ExpectNotBlank(const QImage& image, const char* view) {
  ASSERT_FALSE(image.isNull()) << view;
  EXPECT_GE(image.width(), 800) << view;
  EXPECT_GE(image.height(), 500) << view;
  std::map<QRgb, int> counts;
  for (int y = 0; y < image.height(); ++y)
    for (int x = 0; x < image.width(); ++x) ++counts[image.pixel(x, y)];
  int background = 0;
  for (const auto& [colour, n] : counts) background = std::max(background, n);
  const double other_share = 1.0 - double(background) / (image.width() * image.height());
  EXPECT_GE(counts.size(), 30u) << view;
  EXPECT_GE(other_share, 0.05) << view;
}

TEST(GuiEndToEnd, ScreenshotsOfEveryViewAreNotBlank) {
  TempDir tmp;
  const std::string profile = tmp.File("kvcache.tsprof");
  formats::WriteProfile(profile, testing::MakeKvcacheProfile());
  const std::string shots = tmp.File("shots");

  auto result = RunCommand(UnderXvfb({GuiBin(), "--screenshot", shots, profile}),
                           {"QT_QPA_PLATFORM=xcb", "XDG_CONFIG_HOME=" + tmp.File("config")});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  for (const char* view : {"summary", "sites", "call-tree", "heat-map", "what-if"}) {
    const QString path = QString::fromStdString(shots) + "/" + view + ".png";
    QImage image(path);
    ASSERT_FALSE(image.isNull()) << "no screenshot " << path.toStdString() << "\n" << result.out;
    ExpectNotBlank(image, view);
  }
}

// A trace recorded here from the kvcache example (tierscope record, timer sampler), opened in
// the viewer: analyzed on its worker thread, then every view including the address map. The
// what-if replays the plan on the trace it was learned from (in-sample); with --replay on a second
// recorded run (held out), which is the what-if picture kept for the README, with the summary,
// the sites and the address map of the first run.
TEST(GuiEndToEnd, RecordedTraceIsAnalyzedAndEveryViewRenders) {
  TempDir tmp;
  std::vector<std::string> traces;
  for (const char* run : {"kvcache.trace", "kvcache-run2.trace"}) {
    traces.push_back(tmp.File(run));
    auto recorded =
        RunCommand({tierscope::testing::TierscopeBin(), "record", "-q", "--sampler", "timer", "-o",
                    traces.back(), "--", tierscope::testing::ExampleBin("ts-example-kvcache"),
                    "--threads", "2"});
    ASSERT_EQ(recorded.exit_code, 0) << recorded.err;
  }
  const std::string shots = tmp.File("shots");
  auto result = RunCommand(UnderXvfb({GuiBin(), "--screenshot", shots, traces[0]}),
                           {"QT_QPA_PLATFORM=xcb", "XDG_CONFIG_HOME=" + tmp.File("config")});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;

  for (const char* view : {"summary", "sites", "call-tree", "heat-map", "what-if", "address-map"}) {
    const QString path = QString::fromStdString(shots) + "/" + view + ".png";
    QImage image(path);
    ASSERT_FALSE(image.isNull()) << "no screenshot " << path.toStdString() << "\n" << result.out;
    ExpectNotBlank(image, view);
  }
  for (const char* view : {"summary", "sites", "address-map"}) KeepForReadme(shots, view);

  // The same trace with the what-if replayed on the second run: held out, another run's figures
  // and caption, so its picture differs from the in-sample one.
  const std::string held_out = tmp.File("held-out");
  auto replayed =
      RunCommand(UnderXvfb({GuiBin(), "--screenshot", held_out, "--replay", traces[1], traces[0]}),
                 {"QT_QPA_PLATFORM=xcb", "XDG_CONFIG_HOME=" + tmp.File("config")});
  ASSERT_EQ(replayed.exit_code, 0) << replayed.out << replayed.err;
  const QString what_if = QString::fromStdString(held_out) + "/what-if.png";
  const QImage held_out_image(what_if);
  ExpectNotBlank(held_out_image, "what-if (held out)");
  EXPECT_NE(held_out_image, QImage(QString::fromStdString(shots) + "/what-if.png"));
  KeepForReadme(held_out, "what-if");
}

// A real program: CPython (Debian's /usr/bin/python3) running a small script of dicts, lists,
// sorting and strings, every object its own malloc (PYTHONMALLOC=malloc), recorded with the timer
// sampler. Its call tree and heat map (sites with the interpreter's own function names) are the
// pictures kept for the README.
TEST(GuiEndToEnd, RealProgramTraceRenders) {
  TempDir tmp;
  const std::string trace = tmp.File("python3.trace");
  const std::string script =
      "import json\n"
      "rows = [{'id': i, 'name': 'item%d' % i, 'tags': [str(i % 7), str(i % 11)]}"
      " for i in range(100000)]\n"
      "index = {}\n"
      "for r in rows:\n"
      "    index.setdefault(r['tags'][0], []).append(r)\n"
      "text = json.dumps(rows[:25000])\n"
      "back = json.loads(text)\n"
      "words = sorted(set(' '.join(r['name'] for r in back).split()))\n"
      "print(len(index), len(words), sum(len(v) for v in index.values()))\n";
  auto recorded = RunCommand({tierscope::testing::TierscopeBin(), "record", "-q", "--sampler",
                              "timer", "-o", trace, "--", "/usr/bin/python3", "-c", script},
                             {"PYTHONMALLOC=malloc"});
  ASSERT_EQ(recorded.exit_code, 0) << recorded.err;
  const std::string shots = tmp.File("shots");
  auto result = RunCommand(UnderXvfb({GuiBin(), "--screenshot", shots, trace}),
                           {"QT_QPA_PLATFORM=xcb", "XDG_CONFIG_HOME=" + tmp.File("config")});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  for (const char* view : {"summary", "sites", "call-tree", "heat-map", "address-map"}) {
    ExpectNotBlank(QImage(QString::fromStdString(shots) + "/" + view + ".png"), view);
  }
  for (const char* view : {"call-tree", "heat-map"}) KeepForReadme(shots, view);
}

TEST(GuiEndToEnd, CorruptTraceExitsWithTheAnalyzerError) {
  TempDir tmp;
  const std::string bad = tmp.File("bad.trace");
  // A valid trace header (magic, version, kind) followed by a damaged chunk.
  std::string bytes("TIERSCOP\x01\x00\x00\x00\x01\x00\x00\x00", 16);
  bytes += std::string(40, '\x5a');
  tierscope::testing::WriteBytes(bad, bytes);
  auto result = RunCommand(UnderXvfb({GuiBin(), "--screenshot", tmp.File("shots"), bad}),
                           {"QT_QPA_PLATFORM=xcb", "XDG_CONFIG_HOME=" + tmp.File("config")});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.err.find("tierscope-gui: " + bad + ": byte 16"), std::string::npos)
      << result.err;
}

TEST(GuiEndToEnd, HundredThousandSitesRender) {
  TempDir tmp;
  const std::string profile = tmp.File("many.tsprof");
  formats::WriteProfile(profile, testing::MakeManySitesProfile(100000));
  const std::string shots = tmp.File("shots");
  auto result = RunCommand(UnderXvfb({GuiBin(), "--screenshot", shots, profile}),
                           {"QT_QPA_PLATFORM=xcb", "XDG_CONFIG_HOME=" + tmp.File("config")});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  for (const char* view : {"sites", "call-tree", "heat-map"})
    ExpectNotBlank(QImage(QString::fromStdString(shots) + "/" + view + ".png"), view);
}

TEST(GuiEndToEnd, CorruptProfileExitsWithTheFormatError) {
  TempDir tmp;
  const std::string bad = tmp.File("bad.tsprof");
  tierscope::testing::WriteBytes(bad, "definitely not a profile");
  auto result = RunCommand(UnderXvfb({GuiBin(), "--screenshot", tmp.File("shots"), bad}),
                           {"QT_QPA_PLATFORM=xcb", "XDG_CONFIG_HOME=" + tmp.File("config")});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.err.find("tierscope-gui: " + bad + ": byte 0"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace tierscope::gui
