#include "runtime/report/csv_report.h"

#include <cinttypes>
#include <cstdio>

#include "runtime/report/text_format.h"
#include "runtime/report/percentiles.h"
#include "runtime/report/report_rows.h"

namespace cicada::report::csv {

namespace {

constexpr std::string_view kRowEnd = "\r\n";
// Locust lists the nodes an exception was seen on; a cicada run is one node.
constexpr std::string_view kNode = "local";

class Row {
 public:
  explicit Row(std::string& out) : out_(out) {}
  Row(const Row&) = delete;
  Row& operator=(const Row&) = delete;
  ~Row() { out_ += kRowEnd; }

  Row& text(std::string_view value) {
    separate();
    out_ += field(value);
    return *this;
  }
  Row& count(std::uint64_t value) { return text(std::to_string(value)); }
  Row& ms(double value) { return text(format_ms_exact(value)); }
  Row& decimal(double value, int max_decimals) { return text(format_decimal(value, max_decimals)); }

 private:
  void separate() {
    if (!first_) out_ += ',';
    first_ = false;
  }
  std::string& out_;
  bool first_ = true;
};

void header(std::string& out, std::initializer_list<const char*> leading, std::initializer_list<const char*> trailing,
            bool with_percentiles) {
  Row row(out);
  for (const char* name : leading) row.text(name);
  if (with_percentiles)
    for (const char* label : kPercentileLabels) row.text(label);
  for (const char* name : trailing) row.text(name);
}

void percentile_fields(Row& row, const stats::EntryStats& entry, const stats::EntryStats& source) {
  for (double p : kReportedPercentiles) {
    // Locust's "N/A" marks an entry without any request.
    if (entry.num_requests == 0) {
      row.text("N/A");
    } else {
      row.ms(source.percentile_ms(p));
    }
  }
}

// Locust's "%2f": six decimals.
std::string rate_text(double rate) {
  char text[64];
  std::snprintf(text, sizeof text, "%2f", rate);
  return text;
}

void stats_row(std::string& out, const stats::RunStats& run, std::string_view method, std::string_view name,
               const stats::EntryStats& entry) {
  Row row(out);
  row.text(method).text(name).count(entry.num_requests).count(entry.num_failures);
  row.ms(entry.median_ms()).ms(entry.avg_ms()).ms(entry.min_ms()).ms(entry.max_ms());
  row.decimal(entry.avg_content_length(), 3);
  row.decimal(run.total_rps(entry), 6).decimal(run.total_fail_per_sec(entry), 6);
  percentile_fields(row, entry, entry);
}

void history_row(std::string& out, const HistoryRowsInput& input, const stats::EntryKey* key,
                 const stats::EntryStats& entry) {
  Row row(out);
  row.text(std::to_string(input.unix_s)).text(std::to_string(input.users));
  row.text(key ? key->method : "").text(key ? key->name : "Aggregated");
  row.text(rate_text(input.run.current_rps(key))).text(rate_text(input.run.current_fail_per_sec(key)));
  percentile_fields(row, entry, input.recent.window(key));
  row.count(entry.num_requests).count(entry.num_failures);
  row.ms(entry.median_ms()).ms(entry.avg_ms()).ms(entry.min_ms()).ms(entry.max_ms());
  row.decimal(entry.avg_content_length(), 3);
}

}  // namespace

std::string field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + '"';
}

std::string stats_file(const stats::RunStats& run) {
  std::string out;
  header(out,
         {"Type", "Name", "Request Count", "Failure Count", "Median Response Time", "Average Response Time",
          "Min Response Time", "Max Response Time", "Average Content Size", "Requests/s", "Failures/s"},
         {}, true);
  for (const auto& [key, entry] : run.book().sorted_entries()) stats_row(out, run, key.method, key.name, *entry);
  stats_row(out, run, "", "Aggregated", run.book().total());
  return out;
}

std::string failures_file(const stats::RunStats& run) {
  std::string out;
  header(out, {"Method", "Name", "Error", "Occurrences"}, {}, false);
  for (const auto& [key, occurrences] : failures_by_count(run.book()))
    Row(out).text(key->method).text(key->name).text(key->error).count(occurrences);
  return out;
}

std::string exceptions_file(const stats::RunStats& run) {
  std::string out;
  header(out, {"Count", "Message", "Traceback", "Nodes"}, {}, false);
  for (const stats::ExceptionRecord* record : exceptions_by_count(run.book()))
    Row(out).count(record->count).text(record->message).text(record->traceback).text(kNode);
  return out;
}

std::string in_flight_file(const stats::RunStats& run) {
  std::string out;
  header(out, {"Type", "Name", "Count", "Oldest (ms)"}, {}, false);
  for (const auto& [key, entry] : run.book().in_flight_at_stop())
    Row(out).text(key.method).text(key.name).count(entry.count).ms(static_cast<double>(entry.oldest_us) / 1000.0);
  return out;
}

std::string history_header() {
  std::string out;
  header(out, {"Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s"},
         {"Total Request Count", "Total Failure Count", "Total Median Response Time", "Total Average Response Time",
          "Total Min Response Time", "Total Max Response Time", "Total Average Content Size"},
         true);
  return out;
}

std::string history_rows(const HistoryRowsInput& input) {
  std::string out;
  if (input.full_history)
    for (const auto& [key, entry] : input.run.book().sorted_entries()) history_row(out, input, &key, *entry);
  history_row(out, input, nullptr, input.run.book().total());
  return out;
}

std::string service_stats_file(const stats::RunStats& run) {
  std::string out;
  header(out,
         {"Type", "Name", "Request Count", "Median Service Time", "Average Service Time", "Min Service Time",
          "Max Service Time"},
         {}, true);
  auto add = [&out](std::string_view method, std::string_view name, const stats::ServiceTimes& service) {
    Row row(out);
    row.text(method).text(name).count(service.count);
    row.ms(service.percentile_ms(0.5)).ms(service.avg_ms()).ms(service.min_ms()).ms(service.max_ms());
    for (double p : kReportedPercentiles) {
      if (service.count == 0) {
        row.text("N/A");
      } else {
        row.ms(service.percentile_ms(p));
      }
    }
  };
  for (const auto& [key, entry] : run.book().sorted_entries()) add(key.method, key.name, entry->service);
  add("", "Aggregated", run.book().total().service);
  return out;
}

std::string iterations_file(const RunInfo& info, const stats::RunStats& run) {
  std::string out;
  header(out, {"Target Rate", "Due", "Started", "Dropped", "Duration", "Achieved Rate", "Max Users", "Max Queue Time"},
         {}, false);
  const stats::StatsBook& book = run.book();
  Row row(out);
  // The target as an average over the run, so that it compares with the achieved rate also
  // when stages ramp it.
  row.decimal(info.achieved_rate(info.iterations_due), 6).count(info.iterations_due).count(book.iterations_started());
  row.count(book.iterations_dropped()).decimal(info.arrivals_duration_s, 6);
  row.decimal(info.achieved_rate(book.iterations_started()), 6).count(static_cast<std::uint64_t>(info.max_users));
  row.decimal(info.max_queue_time_s, 6);
  return out;
}

std::string thresholds_file(const std::vector<ThresholdResult>& results) {
  std::string out;
  header(out, {"Threshold", "Selector", "Metric", "Limit", "Value", "Unit", "Result", "Note"}, {}, false);
  for (const ThresholdResult& result : results) {
    const Threshold& t = result.threshold;
    Row row(out);
    row.text(t.text()).text(t.selector.empty() ? "Aggregated" : t.selector).text(t.metric_name);
    row.decimal(t.limit, 6);
    if (result.measurement.has_data) {
      row.decimal(result.measurement.value, 6);
    } else {
      row.text("");
    }
    row.text(t.unit()).text(result.passed ? "pass" : "fail");
    row.text(result.aborted_test ? result.abort_note : result.measurement.has_data ? "" : "no requests");
  }
  return out;
}

}  // namespace cicada::report::csv
