#pragma once
// The HTML report (--html FILE): one self-contained page that opens offline, with the run's
// metadata, thresholds, charts over time and Locust's tables. The charts are drawn by uPlot
// (from npm, pinned in runtime/report/web/package-lock.json), inlined into the page with the
// JSON summary it draws from.
#include <string>
#include <string_view>

#include "runtime/report/report_content.h"

namespace cicada::report {

// `json_summary` is json_report(content), embedded as the charts' data.
std::string html_report(const ReportContent& content, std::string_view json_summary);

// Locust's placeholders in --html file names: {u} users, {r} spawn rate, {t} run time in
// seconds (left as is when the run has no run time).
std::string expand_html_placeholders(std::string_view path, int users, double spawn_rate, double run_time_s);

}  // namespace cicada::report
