#include "runtime/report/html_report.h"

#include <cstdio>
#include <utility>

#include "report_assets.h"
#include "runtime/report/text_format.h"
#include "runtime/report/percentiles.h"
#include "runtime/report/report_rows.h"

namespace cicada::report {

namespace {

// Inside <script>, "</" could end the element early; "<\/" means the same to JSON.
std::string script_safe(std::string_view json) {
  std::string out;
  out.reserve(json.size());
  for (std::size_t i = 0; i < json.size(); ++i) {
    out += json[i];
    if (json[i] == '<' && i + 1 < json.size() && json[i + 1] == '/') out += '\\';
  }
  return out;
}

struct Column {
  std::string_view title;
  bool number = false;  // right-aligned
};

class Table {
 public:
  Table(std::string& out, std::initializer_list<Column> columns, std::string_view css_class = {}) : out_(out) {
    out_ += css_class.empty() ? "<table>" : "<table class=\"" + std::string(css_class) + "\">";
    if (columns.size() > 0) {
      out_ += "<thead><tr>";
      for (const Column& column : columns)
        out_ += (column.number ? "<th class=\"num\">" : "<th>") + escape_markup(column.title) + "</th>";
      out_ += "</tr></thead>";
    }
    out_ += "<tbody>";
  }
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;
  ~Table() {
    end_row();
    out_ += "</tbody></table>\n";
  }

  Table& row(std::string_view css_class = {}) {
    end_row();
    out_ += css_class.empty() ? "<tr>" : "<tr class=\"" + std::string(css_class) + "\">";
    in_row_ = true;
    return *this;
  }
  Table& header_cell(std::string_view value) {
    out_ += "<th>" + escape_markup(value) + "</th>";
    return *this;
  }
  Table& text(std::string_view value) { return cell("", escape_markup(value)); }
  Table& code(std::string_view value) { return cell("", "<code>" + escape_markup(value) + "</code>"); }
  Table& pre(std::string_view value) { return cell("", "<pre>" + escape_markup(value) + "</pre>"); }
  Table& number(std::string_view value) { return cell("num", escape_markup(value)); }
  Table& count(std::uint64_t value) { return number(std::to_string(value)); }
  Table& ms(double value) { return number(format_ms_exact(value)); }
  Table& result(bool passed) { return cell(passed ? "result pass" : "result fail", passed ? "PASS" : "FAIL"); }

 private:
  void end_row() {
    if (in_row_) out_ += "</tr>";
    in_row_ = false;
  }
  Table& cell(std::string_view css_class, const std::string& html) {
    out_ += css_class.empty() ? "<td>" : "<td class=\"" + std::string(css_class) + "\">";
    out_ += html + "</td>";
    return *this;
  }

  std::string& out_;
  bool in_row_ = false;
};

std::string seconds_text(double seconds) { return seconds > 0 ? format_decimal(seconds, 3) + " s" : "none"; }

void run_section(std::string& out, const ReportContent& content) {
  const RunInfo& info = content.info;
  std::string classes;
  for (const std::string& name : info.user_classes) classes += (classes.empty() ? "" : ", ") + name;
  out += "<section id=\"run\"><h2>Run</h2>\n";
  Table table(out, {}, "meta");
  auto item = [&](std::string_view label, std::string_view value) { table.row().header_cell(label).text(value); };
  item("Script", info.script);
  item("Host", info.host);
  item("User classes", classes);
  if (info.open_model) {
    item("Load model", "open: iterations start on schedule; response times count from the scheduled start");
    item("Arrival rate", info.arrival_rate_text());
    item("Users", std::to_string(info.users) + " at first, at most " + std::to_string(info.max_users));
    item("Max queue time", seconds_text(info.max_queue_time_s));
  } else {
    item("Load model", "closed: users loop on their tasks");
    item("Users", std::to_string(info.users));
    item("Spawn rate", format_decimal(info.spawn_rate, 3) + " per second");
  }
  if (!info.load_shape.empty()) item("Load shape", info.load_shape);
  item("Run time", seconds_text(info.run_time_s));
  if (info.iterations >= 0) item("Iterations", std::to_string(info.iterations));
  if (info.iterations_per_user >= 0) item("Iterations per user", std::to_string(info.iterations_per_user));
  item("Worker threads", std::to_string(info.threads));
  item("Start", iso8601_utc(info.start_unix_s));
  item("End", iso8601_utc(info.end_unix_s));
  item("Duration", seconds_text(info.duration_s));
  item("Stopped because", info.stop_reason);
  item("Exit code", std::to_string(info.exit_code));
  table.row().header_cell("Command line").code(shell_command(info.command_line));
}

void threshold_section(std::string& out, const ReportContent& content) {
  if (content.thresholds.empty()) return;
  out += "<section id=\"thresholds\"><h2>Thresholds</h2>\n";
  {
    Table table(out, {{"Result"}, {"Threshold"}, {"Value", true}, {"Note"}, {"Declared in"}});
    for (const ThresholdResult& result : content.thresholds) {
      table.row().result(result.passed).code(result.threshold.text());
      table.number(format_threshold_value(result.threshold, result.measurement));
      table.text(result.abort_note).text(result.threshold.source);
    }
  }
  out += "</section>\n";
}

void chart_section(std::string& out) {
  out += "<section id=\"charts\"><h2>Charts</h2>\n"
         "<div class=\"chart\" id=\"chart-rps\"></div>\n"
         "<div class=\"chart\" id=\"chart-response-times\"></div>\n"
         "<div class=\"chart\" id=\"chart-users\"></div>\n"
         "<p class=\"subtitle\">Rates and percentiles at each second are over the 10 seconds before it, "
         "as in Locust's charts.</p>\n"
         "</section>\n";
}

void stats_section(std::string& out, const stats::RunStats& run) {
  out += "<section id=\"stats\"><h2>Request statistics</h2>\n";
  {
    Table table(out, {{"Type"},
                      {"Name"},
                      {"# Requests", true},
                      {"# Fails", true},
                      {"Average (ms)", true},
                      {"Min (ms)", true},
                      {"Max (ms)", true},
                      {"Median (ms)", true},
                      {"Average size (bytes)", true},
                      {"RPS", true},
                      {"Failures/s", true}});
    auto add = [&](std::string_view method, std::string_view name, const stats::EntryStats& entry, bool total) {
      table.row(total ? "total" : "").text(method).text(name).count(entry.num_requests).count(entry.num_failures);
      table.ms(entry.avg_ms()).ms(entry.min_ms()).ms(entry.max_ms()).ms(entry.median_ms());
      table.number(format_decimal(entry.avg_content_length(), 1));
      table.number(format_decimal(run.total_rps(entry), 2)).number(format_decimal(run.total_fail_per_sec(entry), 2));
    };
    for (const auto& [key, entry] : run.book().sorted_entries()) add(key.method, key.name, *entry, false);
    add("", "Aggregated", run.book().total(), true);
  }
  out += "</section>\n";
}

// Times: anything with percentile_ms(p) (an entry's response times, or its service times).
template <class TimesOf>
void percentile_section(std::string& out, const stats::RunStats& run, std::string_view id, std::string_view title,
                        TimesOf times_of) {
  out += "<section id=\"" + std::string(id) + "\"><h2>" + escape_markup(title) + "</h2>\n";
  out += "<table><thead><tr><th>Type</th><th>Name</th>";
  for (const char* label : kPercentileLabels) out += "<th class=\"num\">" + std::string(label) + "</th>";
  out += "<th class=\"num\"># reqs</th></tr></thead><tbody>";
  auto add = [&](std::string_view method, std::string_view name, const stats::EntryStats& entry, bool total) {
    const auto& [times, count] = times_of(entry);
    if (count == 0) return;
    out += total ? "<tr class=\"total\">" : "<tr>";
    out += "<td>" + escape_markup(method) + "</td><td>" + escape_markup(name) + "</td>";
    for (double p : kReportedPercentiles) out += "<td class=\"num\">" + format_ms_exact(times.percentile_ms(p)) + "</td>";
    out += "<td class=\"num\">" + std::to_string(count) + "</td></tr>";
  };
  for (const auto& [key, entry] : run.book().sorted_entries()) add(key.method, key.name, *entry, false);
  add("", "Aggregated", run.book().total(), true);
  out += "</tbody></table>\n</section>\n";
}

void iterations_section(std::string& out, const ReportContent& content) {
  const RunInfo& info = content.info;
  const stats::StatsBook& book = content.run.book();
  out += "<section id=\"iterations\"><h2>Iterations</h2>\n";
  {
    Table table(out, {{"Arrival rate"}, {"Due", true}, {"Started", true}, {"Dropped", true}, {"Over (s)", true},
                      {"Achieved (per s)", true}});
    table.row().text(info.arrival_rate_text()).count(info.iterations_due).count(book.iterations_started());
    table.count(book.iterations_dropped()).number(format_decimal(info.arrivals_duration_s, 3));
    table.number(format_decimal(info.achieved_rate(book.iterations_started()), 2));
  }
  out += "<p class=\"subtitle\">Dropped: due when no user was free, and still waiting after the max queue time "
         "(or when the test stopped). Response times count from each iteration's scheduled start; the service "
         "times below leave out the wait.</p>\n</section>\n";
}

void failure_section(std::string& out, const stats::RunStats& run) {
  out += "<section id=\"failures\"><h2>Failures</h2>\n";
  if (run.book().failures().empty()) {
    out += "<p class=\"none\">No request failed.</p>\n";
  } else {
    Table table(out, {{"# Occurrences", true}, {"Method"}, {"Name"}, {"Error"}});
    for (const auto& [key, occurrences] : failures_by_count(run.book()))
      table.row().count(occurrences).text(key->method).text(key->name).text(key->error);
  }
  out += "</section>\n";
}

// Shown only when there were any: requests still waiting for an answer when their user stopped.
void in_flight_section(std::string& out, const stats::RunStats& run) {
  const auto& in_flight = run.book().in_flight_at_stop();
  if (in_flight.empty()) return;
  out += "<section id=\"in-flight\"><h2>Requests in flight at the stop</h2>\n";
  out += "<p class=\"subtitle\">Still waiting for their answer when their user stopped: no response time, not in "
         "the stats above.</p>\n";
  Table table(out, {{"# Requests", true}, {"Method"}, {"Name"}, {"Oldest (ms)", true}});
  for (const auto& [key, entry] : in_flight)
    table.row().count(entry.count).text(key.method).text(key.name).ms(static_cast<double>(entry.oldest_us) / 1000.0);
  out += "</section>\n";
}

void exception_section(std::string& out, const stats::RunStats& run) {
  out += "<section id=\"exceptions\"><h2>Exceptions</h2>\n";
  if (run.book().exceptions().empty()) {
    out += "<p class=\"none\">No task raised an error.</p>\n";
  } else {
    Table table(out, {{"Count", true}, {"Message"}, {"Traceback"}});
    for (const stats::ExceptionRecord* record : exceptions_by_count(run.book()))
      table.row().count(record->count).pre(record->message).pre(record->traceback);
  }
  out += "</section>\n";
}

void verdict(std::string& out, const ReportContent& content) {
  const auto& thresholds = content.thresholds;
  std::size_t failed = 0;
  for (const ThresholdResult& result : thresholds) failed += result.passed ? 0 : 1;
  const stats::StatsBook& book = content.run.book();
  bool good;
  std::string text;
  if (!thresholds.empty()) {
    good = failed == 0;
    text = good ? "All " + std::to_string(thresholds.size()) + " thresholds passed"
                : std::to_string(failed) + " of " + std::to_string(thresholds.size()) + " thresholds failed";
  } else {
    good = book.total().num_failures == 0 && book.exceptions().empty();
    text = good ? "No failures" : std::to_string(book.total().num_failures) + " failed requests, " +
                                      std::to_string(book.exceptions().size()) + " distinct exceptions";
  }
  if (content.info.open_model && book.iterations_dropped() > 0)
    text += ", " + std::to_string(book.iterations_dropped()) + " iterations dropped";
  out += "<p class=\"verdict " + std::string(good ? "pass" : "fail") + "\">" + escape_markup(text) + "</p>\n";
}

}  // namespace

std::string html_report(const ReportContent& content, std::string_view json_summary) {
  const RunInfo& info = content.info;
  std::string out;
  out.reserve(assets::kUplotJs.size() + json_summary.size() + 64 * 1024);
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<meta name=\"generator\" content=\"cicada " CICADA_VERSION "\">\n";
  out += "<title>cicada report: " + escape_markup(info.script) + "</title>\n<style>\n";
  out += assets::kUplotCss;
  out += "\n";
  out += assets::kReportCss;
  out += "</style>\n</head>\n<body>\n<header>\n<h1>cicada load test report</h1>\n";
  out += "<p class=\"subtitle\">" + escape_markup(info.script) + " against " + escape_markup(info.host) + ", " +
         iso8601_utc(info.start_unix_s) + ", " + seconds_text(info.duration_s) + "</p>\n";
  verdict(out, content);
  out += "</header>\n<main>\n";
  run_section(out, content);
  threshold_section(out, content);
  chart_section(out);
  if (content.info.open_model) iterations_section(out, content);
  stats_section(out, content.run);
  percentile_section(out, content.run, "percentiles",
                     content.info.open_model ? "Response time percentiles (ms, from the scheduled start)"
                                             : "Response time percentiles (ms)",
                     [](const stats::EntryStats& entry) {
                       return std::pair<const stats::EntryStats&, std::uint64_t>(entry, entry.num_requests);
                     });
  if (content.info.open_model)
    percentile_section(out, content.run, "service-percentiles", "Service time percentiles (ms, uncorrected)",
                       [](const stats::EntryStats& entry) {
                         return std::pair<const stats::ServiceTimes&, std::uint64_t>(entry.service, entry.service.count);
                       });
  failure_section(out, content.run);
  in_flight_section(out, content.run);
  exception_section(out, content.run);
  out += "</main>\n<script type=\"application/json\" id=\"cicada-report-data\">";
  out += script_safe(json_summary);
  out += "</script>\n<script>\n";
  out += assets::kUplotJs;
  out += "\n</script>\n<script>\n";
  out += assets::kReportJs;
  out += "</script>\n</body>\n</html>\n";
  return out;
}

std::string expand_html_placeholders(std::string_view path, int users, double spawn_rate, double run_time_s) {
  std::string out(path);
  auto replace_all = [&out](std::string_view placeholder, const std::string& value) {
    for (std::size_t at = out.find(placeholder); at != std::string::npos; at = out.find(placeholder, at + value.size()))
      out.replace(at, placeholder.size(), value);
  };
  replace_all("{u}", std::to_string(users));
  replace_all("{r}", format_decimal(spawn_rate, 3));
  if (run_time_s > 0) replace_all("{t}", format_decimal(run_time_s, 3));
  return out;
}

}  // namespace cicada::report
