#include "runtime/report/console_report.h"

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/report/percentiles.h"
#include "runtime/report/report_rows.h"
#include "runtime/report/text_format.h"

namespace cicada::report {

namespace {

// Widths from Locust's stats.py (STATS_TYPE_WIDTH, STATS_NAME_WIDTH on a wide terminal); the
// stats table's name column gives 4 characters back to the compacted number columns.
constexpr int kTypeWidth = 8;
constexpr int kNameWidth = 80;
constexpr int kStatsNameWidth = kNameWidth - kTypeWidth + 4;
constexpr int kOccurrencesWidth = 18;

__attribute__((format(printf, 2, 3))) void append_format(std::string& out, const char* format, ...) {
  std::va_list args;
  va_start(args, format);
  std::va_list measure_args;
  va_copy(measure_args, args);
  const int length = std::vsnprintf(nullptr, 0, format, measure_args);
  va_end(measure_args);
  if (length > 0) {
    const std::size_t old_size = out.size();
    out.resize(old_size + static_cast<std::size_t>(length) + 1);  // room for vsnprintf's NUL
    std::vsnprintf(out.data() + old_size, static_cast<std::size_t>(length) + 1, format, args);
    out.resize(old_size + static_cast<std::size_t>(length));
  }
  va_end(args);
}

void append_dashes(std::string& out, int count) { out.append(static_cast<std::size_t>(count), '-'); }

std::string stats_separator() {
  std::string line;
  for (int width : {kTypeWidth, kStatsNameWidth, 7, 13, 7, 7, 7, 7, 8}) {
    append_dashes(line, width);
    line += '|';
  }
  append_dashes(line, 11);
  line += '\n';
  return line;
}

std::string percentile_separator() {
  std::string line;
  for (int width : {kTypeWidth, kNameWidth, 8}) {
    append_dashes(line, width);
    line += '|';
  }
  for (std::size_t i = 0; i < kReportedPercentiles.size(); ++i) {
    append_dashes(line, 6);
    line += '|';
  }
  line.back() = '\n';  // Locust drops the last '|'
  return line;
}

// The error and exception reports are as wide as the stats table: 80 + STATS_NAME_WIDTH.
std::string occurrences_separator() {
  std::string line;
  append_dashes(line, kOccurrencesWidth);
  line += '|';
  append_dashes(line, 80 + kNameWidth - (kOccurrencesWidth + 1));
  line += '\n';
  return line;
}

void append_stats_row(std::string& out, std::string_view method, std::string_view name,
                      const stats::EntryStats& entry, double rps, double fail_per_sec) {
  // Locust prints the method with a trailing space; it only shows for methods of 8+ characters.
  const std::string type = method.empty() ? std::string() : std::string(method) + ' ';
  const std::string name_text(name);
  char failures[64];
  std::snprintf(failures, sizeof failures, "%" PRIu64 "(%.2f%%)", entry.num_failures, entry.fail_ratio() * 100.0);
  append_format(out, "%-*s %-*s %7" PRIu64 " %12s |%7s %7s %7s%7s | %7.2f %11.2f\n", kTypeWidth, type.c_str(),
                kStatsNameWidth, name_text.c_str(), entry.num_requests, failures, format_ms(entry.avg_ms()).c_str(),
                format_ms(entry.min_ms()).c_str(), format_ms(entry.max_ms()).c_str(),
                format_ms(entry.median_ms()).c_str(), rps, fail_per_sec);
}

// Times: anything with percentile_ms(p), the response times of an entry or its service times.
template <class Times>
void append_percentile_row(std::string& out, std::string_view method, std::string_view name, const Times& times,
                           std::uint64_t count) {
  const std::string type(method);
  const std::string name_text(name);
  append_format(out, "%-*s %-*s", kTypeWidth, type.c_str(), kNameWidth, name_text.c_str());
  for (std::size_t i = 0; i < kReportedPercentiles.size(); ++i) {
    const std::string value = format_ms(times.percentile_ms(kReportedPercentiles[i]));
    append_format(out, i == 0 ? " %8s" : " %6s", value.c_str());
  }
  append_format(out, " %6" PRIu64 "\n", count);
}

// One table of percentiles, of response times or of service times.
template <class TimesOf>
std::string percentile_block(const stats::RunStats& run, const char* title, TimesOf times_of) {
  std::string out = std::string(title) + "\n";
  append_format(out, "%-*s %-*s", kTypeWidth, "Type", kNameWidth, "Name");
  for (std::size_t i = 0; i < kPercentileLabels.size(); ++i)
    append_format(out, i == 0 ? " %8s" : " %6s", kPercentileLabels[i]);
  append_format(out, " %6s\n", "# reqs");
  const std::string separator = percentile_separator();
  out += separator;
  // Like Locust, entries without response times get no percentile row.
  for (const auto& [key, entry] : run.book().sorted_entries()) {
    const auto& [times, count] = times_of(*entry);
    if (count > 0) append_percentile_row(out, key.method, key.name, times, count);
  }
  out += separator;
  const auto& [times, count] = times_of(run.book().total());
  if (count > 0) append_percentile_row(out, "", "Aggregated", times, count);
  return out;
}

// Continuation lines of a message or traceback line up under the text of the first line.
void append_indented_lines(std::string& out, std::string_view text) {
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    if (!line.empty()) out.append(static_cast<std::size_t>(kOccurrencesWidth + 1), ' ').append(line);
    out += '\n';
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
}

}  // namespace

std::string format_ms(double ms) {
  char text[64];
  if (ms < 10.0) {
    std::snprintf(text, sizeof text, "%.2f", ms);
    // 9.996 rounds to "10.00", which belongs to the whole-number range.
    if (std::string_view(text) != "10.00") return text;
  }
  std::snprintf(text, sizeof text, "%.0f", std::round(ms));  // half away from zero, not to even
  return text;
}

std::string stats_table(const stats::RunStats& run, bool current) {
  std::string out;
  append_format(out, "%-*s %-*s %7s %12s |%7s %7s %7s%7s | %7s %11s\n", kTypeWidth, "Type", kStatsNameWidth, "Name",
                "# reqs", "# fails", "Avg", "Min", "Max", "Med", "req/s", "failures/s");
  const std::string separator = stats_separator();
  out += separator;
  for (const auto& [key, entry] : run.book().sorted_entries()) {
    const double rps = current ? run.current_rps(&key) : run.total_rps(*entry);
    const double fail_per_sec = current ? run.current_fail_per_sec(&key) : run.total_fail_per_sec(*entry);
    append_stats_row(out, key.method, key.name, *entry, rps, fail_per_sec);
  }
  out += separator;
  const stats::EntryStats& total = run.book().total();
  const double rps = current ? run.current_rps(nullptr) : run.total_rps(total);
  const double fail_per_sec = current ? run.current_fail_per_sec(nullptr) : run.total_fail_per_sec(total);
  append_stats_row(out, "", "Aggregated", total, rps, fail_per_sec);
  return out;
}

std::string percentile_table(const stats::RunStats& run) {
  return percentile_block(run, "Response time percentiles (approximated)", [](const stats::EntryStats& entry) {
    return std::pair<const stats::EntryStats&, std::uint64_t>(entry, entry.num_requests);
  });
}

std::string service_percentile_table(const stats::RunStats& run) {
  return percentile_block(run, "Service time percentiles (uncorrected, approximated)",
                          [](const stats::EntryStats& entry) {
                            return std::pair<const stats::ServiceTimes&, std::uint64_t>(entry.service,
                                                                                         entry.service.count);
                          });
}

std::string iterations_report(const RunInfo& info, const stats::RunStats& run) {
  const stats::StatsBook& book = run.book();
  std::string out = "Iterations (open model: response times count from each iteration's scheduled start)\n";
  append_format(out, "%-40s %10s %10s %10s %12s %14s\n", "Arrival rate", "Due", "Started", "Dropped", "Over",
                "Achieved");
  std::string separator;
  for (int width : {40, 11, 11, 11, 13}) {
    append_dashes(separator, width);
    separator += '|';
  }
  append_dashes(separator, 15);
  separator += '\n';
  out += separator;
  const std::string over = format_decimal(info.arrivals_duration_s, 3) + " s";
  const std::string achieved = format_decimal(info.achieved_rate(book.iterations_started()), 2) + "/s";
  append_format(out, "%-40s %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %12s %14s\n", info.arrival_rate_text().c_str(),
                info.iterations_due, book.iterations_started(), book.iterations_dropped(), over.c_str(),
                achieved.c_str());
  out += separator;
  if (book.iterations_dropped() > 0)
    append_format(out, "%" PRIu64 " iterations found no free user within --max-queue-time (%ss) and were dropped: "
                       "raise --max-users (the pool had at most %d users), or the server is slower than the rate.\n",
                  book.iterations_dropped(), format_decimal(info.max_queue_time_s, 3).c_str(), info.max_users);
  out += '\n';
  return out;
}

std::string current_iterations_line(const stats::RunStats& run) {
  std::string out;
  append_format(out, "Iterations: %.2f/s started, %.2f/s dropped (%" PRIu64 " dropped in all)\n",
                run.current_iterations_per_sec(), run.current_dropped_per_sec(), run.book().iterations_dropped());
  return out;
}

std::string error_report(const stats::RunStats& run) {
  if (run.book().failures().empty()) return {};
  const auto rows = failures_by_count(run.book());

  std::string out = "Error report\n";
  append_format(out, "%-*s %-100s\n", kOccurrencesWidth, "# occurrences", "Error");
  const std::string separator = occurrences_separator();
  out += separator;
  for (const auto& [key, occurrences] : rows) {
    const std::string description = key->method + " " + key->name + ": " + key->error;
    append_format(out, "%-*" PRIu64 " %-100s\n", kOccurrencesWidth, occurrences, description.c_str());
  }
  out += separator;
  out += '\n';
  return out;
}

std::string in_flight_report(const stats::RunStats& run) {
  const auto& in_flight = run.book().in_flight_at_stop();
  if (in_flight.empty()) return {};
  std::string out = "Requests in flight at the stop (no answer yet when their user stopped; not in the stats)\n";
  append_format(out, "%-*s %-80s %s\n", kOccurrencesWidth, "# requests", "Request", "Oldest (ms)");
  const std::string separator = occurrences_separator();
  out += separator;
  for (const auto& [key, entry] : in_flight) {
    const std::string description = key.method + " " + key.name;
    append_format(out, "%-*" PRIu64 " %-80s %.0f\n", kOccurrencesWidth, entry.count, description.c_str(),
                  static_cast<double>(entry.oldest_us) / 1000.0);
  }
  out += separator;
  out += '\n';
  return out;
}

std::string exception_report(const stats::RunStats& run) {
  if (run.book().exceptions().empty()) return {};
  const auto rows = exceptions_by_count(run.book());

  std::string out = "Exceptions\n";
  append_format(out, "%-*s %s\n", kOccurrencesWidth, "# occurrences", "Message");
  const std::string separator = occurrences_separator();
  out += separator;
  for (const auto* record : rows) {
    std::string_view message = record->message;
    const std::size_t first_break = message.find('\n');
    const std::string first_line(message.substr(0, first_break));
    append_format(out, "%-*" PRIu64 " %s\n", kOccurrencesWidth, record->count, first_line.c_str());
    if (first_break != std::string_view::npos) append_indented_lines(out, message.substr(first_break + 1));
    append_indented_lines(out, record->traceback);
  }
  out += separator;
  out += '\n';
  return out;
}

std::string threshold_table(const std::vector<ThresholdResult>& results) {
  if (results.empty()) return {};
  std::string out = "Thresholds\n";
  append_format(out, "%-*s %-*s %s\n", kTypeWidth, "Result", kNameWidth, "Threshold", "Value");
  std::string separator;
  append_dashes(separator, kTypeWidth);
  separator += '|';
  append_dashes(separator, kNameWidth);
  separator += '|';
  append_dashes(separator, kOccurrencesWidth + 1);
  separator += '\n';
  out += separator;
  for (const ThresholdResult& result : results) {
    std::string value = format_threshold_value(result.threshold, result.measurement);
    if (result.aborted_test) value += " (" + result.abort_note + ")";
    append_format(out, "%-*s %-*s %s\n", kTypeWidth, result.passed ? "PASS" : "FAIL", kNameWidth,
                  result.threshold.text().c_str(), value.c_str());
  }
  out += separator;
  out += '\n';
  return out;
}

}  // namespace cicada::report
