#pragma once
// Locust's CSV files (--csv PREFIX), with its file names and headers byte for byte, so tools
// written for Locust read them unchanged. Rows end in "\r\n" and fields are quoted only when
// they must be, as Python's csv module writes them. Times are milliseconds with microsecond
// precision ("12.345") where Locust writes whole milliseconds in its percentile columns.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/report/history.h"
#include "runtime/report/run_info.h"
#include "runtime/report/thresholds.h"
#include "runtime/stats/run_stats.h"

namespace cicada::report::csv {

// One CSV field, quoted when it holds a comma, a quote or a line break.
std::string field(std::string_view text);

// PREFIX_stats.csv: one row per entry, then Aggregated; rates over the whole run.
std::string stats_file(const stats::RunStats& run);
// PREFIX_failures.csv: Method,Name,Error,Occurrences.
std::string failures_file(const stats::RunStats& run);
// PREFIX_exceptions.csv: Count,Message,Traceback,Nodes.
std::string exceptions_file(const stats::RunStats& run);
// PREFIX_in_flight.csv (cicada's own): requests still waiting for an answer when their user
// stopped, per entry, with the longest wait.
std::string in_flight_file(const stats::RunStats& run);

// PREFIX_stats_history.csv: the header, then every second the rows of that second.
std::string history_header();
struct HistoryRowsInput {
  const stats::RunStats& run;
  const RecentResponseTimes& recent;
  std::int64_t unix_s;
  int users;
  bool full_history;  // one row per entry before the Aggregated one
};
std::string history_rows(const HistoryRowsInput& input);

// Open model, cicada's own files (docs/load-models.md):
// PREFIX_service_stats.csv: the service times (uncorrected), one row per entry, then Aggregated.
std::string service_stats_file(const stats::RunStats& run);
// PREFIX_iterations.csv: the arrival rate, the iterations due, started and dropped.
std::string iterations_file(const RunInfo& info, const stats::RunStats& run);

// PREFIX_thresholds.csv (cicada's own): one row per threshold.
std::string thresholds_file(const std::vector<ThresholdResult>& results);

}  // namespace cicada::report::csv
