#pragma once
// Everything the file reports (JSON, HTML, JUnit) are written from, gathered at the end of a run.
#include <vector>

#include "runtime/report/history.h"
#include "runtime/report/run_info.h"
#include "runtime/report/thresholds.h"
#include "runtime/stats/run_stats.h"

namespace cicada::report {

struct ReportContent {
  const RunInfo& info;
  const stats::RunStats& run;
  const std::vector<HistoryPoint>& history;
  const std::vector<ThresholdResult>& thresholds;

  bool thresholds_passed() const {
    for (const ThresholdResult& result : thresholds)
      if (!result.passed) return false;
    return true;
  }
};

}  // namespace cicada::report
