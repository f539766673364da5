#include "data/summary.h"

#include <QFileInfo>
#include <cmath>
#include <map>

#include "data/site_text.h"

namespace tierscope::gui {

namespace {

QString Esc(const std::string& s) {
  return QString::fromStdString(s).toHtmlEscaped();
}

QString Row(const QString& key, const QString& value) {
  return QStringLiteral("<tr><td><b>%1</b></td><td>%2</td></tr>").arg(key, value);
}

}  // namespace

double HeapSampleCoverage(const profile::Metadata& metadata) {
  if (metadata.total_samples() == 0) return 0;
  return double(metadata.heap_samples()) / double(metadata.total_samples());
}

QString SummaryHtml(const ProfileData& data) {
  const profile::ProfileChunk& p = data.profile;
  const profile::Metadata& m = p.metadata();
  QString html =
      QStringLiteral("<h2>%1</h2><p>%2</p>")
          .arg(QFileInfo(data.path).fileName().toHtmlEscaped(), data.path.toHtmlEscaped());

  html += QStringLiteral("<h3>Runs</h3><table cellspacing=4>");
  for (const profile::Run& run : m.runs()) {
    QStringList cmd;
    for (const std::string& arg : run.cmdline()) cmd << QString::fromStdString(arg);
    html += Row(QStringLiteral("Program"), Esc(run.program()));
    html += Row(QStringLiteral("Command line"), cmd.join(' ').toHtmlEscaped());
    html += Row(QStringLiteral("Host"), Esc(run.hostname()));
    html += Row(QStringLiteral("PID / duration"),
                QStringLiteral("%1 / %2").arg(run.pid()).arg(FormatDuration(run.duration_ns())));
  }
  if (m.runs().empty()) html += Row(QStringLiteral("Program"), QStringLiteral("(no run recorded)"));
  html += QStringLiteral("</table>");

  html += QStringLiteral("<h3>Sampling</h3><table cellspacing=4>");
  html += Row(QStringLiteral("Sampler"), Esc(m.sampler().empty() ? "none" : m.sampler()));
  html += Row(QStringLiteral("One sample means"),
              m.weighting().empty() ? QStringLiteral("(not stated)") : Esc(m.weighting()));
  html += Row(QStringLiteral("Total samples"), FormatCount(m.total_samples()));
  html += Row(QStringLiteral("Heap samples"), FormatCount(m.heap_samples()));
  html += Row(QStringLiteral("Heap sample coverage"),
              QStringLiteral("%1 of samples hit a tracked allocation")
                  .arg(FormatPercent(HeapSampleCoverage(m))));
  // A protobuf map has no order: sort so the page reads the same every time.
  const std::map<std::string, uint64_t> regions(m.samples_by_region().begin(),
                                                m.samples_by_region().end());
  for (const auto& [region, count] : regions)
    html += Row(QStringLiteral("Samples in %1").arg(Esc(region)), FormatCount(count));
  html += Row(QStringLiteral("Allocation sampling"),
              m.alloc_sample_bytes() > 0
                  ? QStringLiteral("one in %1").arg(FormatBytes(m.alloc_sample_bytes()))
                  : QStringLiteral("exact (every allocation)"));
  html += Row(QStringLiteral("Duration / bin"), QStringLiteral("%1 / %2")
                                                    .arg(FormatDuration(m.duration_ns()))
                                                    .arg(FormatDuration(m.bin_ns())));
  html += QStringLiteral("</table>");

  uint64_t allocations = 0, bytes = 0;
  for (const profile::Site& s : p.sites()) {
    allocations += s.allocations();
    bytes += s.bytes();
  }
  html += QStringLiteral("<h3>Totals</h3><table cellspacing=4>");
  html += Row(QStringLiteral("Sites"), QString::number(p.sites_size()));
  html += Row(QStringLiteral("Allocations"), FormatCount(allocations));
  html += Row(QStringLiteral("Bytes allocated"), FormatBytes(bytes));
  html += QStringLiteral("</table>");

  const profile::Plan& plan = p.plan();
  html += QStringLiteral("<h3>Plan</h3>");
  if (plan.assignments().empty() && plan.default_tier().empty()) {
    html += QStringLiteral("<p>This profile carries no plan.</p>");
  } else {
    html += QStringLiteral("<table cellspacing=4>");
    html += Row(QStringLiteral("Method"), Esc(plan.method()));
    html +=
        Row(QStringLiteral("Sites placed explicitly"), QString::number(plan.assignments_size()));
    html += Row(QStringLiteral("Default tier"), Esc(plan.default_tier()));
    html += Row(QStringLiteral("Expected fast-tier share"), FormatPercent(plan.fast_share()));
    html += Row(QStringLiteral("Estimated stall saved"), FormatDuration(plan.stall_saved_ns()));
    for (const profile::Baseline& b : plan.baselines())
      html += Row(
          QStringLiteral("Baseline %1").arg(Esc(b.name())),
          QStringLiteral("%1 fast share (the plan: %2%3 points)")
              .arg(FormatPercent(b.fast_share()))
              .arg(plan.fast_share() >= b.fast_share() ? QStringLiteral("+") : QStringLiteral("−"))
              .arg(std::abs(plan.fast_share() - b.fast_share()) * 100, 0, 'f', 1));
    html += QStringLiteral("</table>");
  }
  return html;
}

}  // namespace tierscope::gui
