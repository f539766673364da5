// The summary page: what was run, how it was sampled, what one sample means, and the plan's
// expected fast-tier share against the baselines.
#pragma once

#include <QString>

#include "data/profile_source.h"

namespace tierscope::gui {

// Share of all samples attributed to heap sites (0 when nothing was sampled).
double HeapSampleCoverage(const profile::Metadata& metadata);

// Rich text (Qt's HTML subset) for a QTextBrowser.
QString SummaryHtml(const ProfileData& data);

}  // namespace tierscope::gui
