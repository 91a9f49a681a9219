#pragma once
// Locust's console tables, in Locust's layout, from a RunStats.
#include <string>
#include <vector>

#include "runtime/report/run_info.h"
#include "runtime/report/thresholds.h"
#include "runtime/stats/run_stats.h"

namespace cicada::report {

// Times are in ms; values below 10 ms keep two decimals, larger ones are whole numbers.
std::string format_ms(double ms);

// "Type Name # reqs # fails | Avg Min Max Med | req/s failures/s" with the Aggregated row.
// current=true uses the rates of the last seconds (while running); false the whole run.
std::string stats_table(const stats::RunStats& run, bool current);
// "Response time percentiles (approximated)" with 50..100% and # reqs.
std::string percentile_table(const stats::RunStats& run);
// Open model: "Service time percentiles (uncorrected, approximated)", the same table for the
// service times (without the time iterations waited to start).
std::string service_percentile_table(const stats::RunStats& run);
// Open model: the iterations the schedule asked for, started and dropped, and the rate achieved.
std::string iterations_report(const RunInfo& info, const stats::RunStats& run);
// Open model, under the periodic table: the current rates of started and dropped iterations.
std::string current_iterations_line(const stats::RunStats& run);
// "Error report": occurrences and "METHOD name: error"; empty string when no failures.
std::string error_report(const stats::RunStats& run);
// "Requests in flight at the stop": per entry, how many were still waiting for their answer
// when their user stopped, and the longest wait; empty string when none.
std::string in_flight_report(const stats::RunStats& run);
// "Exceptions": count, message and traceback; empty string when none.
std::string exception_report(const stats::RunStats& run);
// "Thresholds": PASS/FAIL, the threshold and the measured value; empty string when none.
std::string threshold_table(const std::vector<ThresholdResult>& results);

}  // namespace cicada::report
