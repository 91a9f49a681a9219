#include "runtime/report/run_reports.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <optional>

#include "runtime/common/log.h"
#include "runtime/report/csv_report.h"
#include "runtime/report/html_report.h"
#include "runtime/report/json_report.h"
#include "runtime/report/junit_report.h"

namespace cicada::report {

namespace {

std::string stats_csv(const std::string& prefix) { return prefix + "_stats.csv"; }
std::string history_csv(const std::string& prefix) { return prefix + "_stats_history.csv"; }
std::string failures_csv(const std::string& prefix) { return prefix + "_failures.csv"; }
std::string exceptions_csv(const std::string& prefix) { return prefix + "_exceptions.csv"; }
std::string thresholds_csv(const std::string& prefix) { return prefix + "_thresholds.csv"; }
std::string service_stats_csv(const std::string& prefix) { return prefix + "_service_stats.csv"; }
std::string iterations_csv(const std::string& prefix) { return prefix + "_iterations.csv"; }

// Creates the folders above `path` and checks that a regular file can be created there.
bool check_writable_file(const std::string& path, const char* option, std::string* error) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) {
    *error = std::string("cannot create the folder of the ") + option + " report '" + path + "': " + ec.message();
    return false;
  }
  if (std::filesystem::is_directory(path, ec)) {
    *error = std::string("the ") + option + " report '" + path + "' is a folder; give a file name";
    return false;
  }
  const std::string probe = path + ".tmp";
  std::FILE* file = std::fopen(probe.c_str(), "w");
  if (!file) {
    *error = std::string("cannot write the ") + option + " report '" + path + "': " + std::strerror(errno);
    return false;
  }
  std::fclose(file);
  std::remove(probe.c_str());
  return true;
}

// How a report reaches `path`. A regular file is replaced whole (written beside it, then
// renamed over it), so that a reader never sees half a report. What is not a regular file (a
// device such as /dev/stdout or /dev/null, a FIFO) is written in place: renaming over it would
// replace it. A symlink is followed: the file it points to is replaced, the link stays.
struct ReportTarget {
  std::string path;       // where to write (the link's target for a symlink to a regular file)
  bool in_place = false;  // open and write, no temporary file and no rename
};

ReportTarget report_target(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);  // follows symlinks
  if (fs::exists(status) && !fs::is_regular_file(status)) return {path, true};
  if (fs::is_symlink(fs::symlink_status(path, ec))) {
    if (!fs::exists(status)) return {path, true};  // a dangling link: create its target through it
    const fs::path target = fs::canonical(path, ec);
    if (!ec) return {target.string(), false};
    return {path, true};
  }
  return {path, false};
}

// Checks before the run that the report can be written where it is asked for.
bool check_writable(const std::string& path, const char* option, std::string* error) {
  const ReportTarget target = report_target(path);
  if (!target.in_place) return check_writable_file(target.path, option, error);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) || access(path.c_str(), W_OK) == 0) return true;
  *error = std::string("cannot write the ") + option + " report '" + path + "': " + std::strerror(errno);
  return false;
}

std::optional<double> window_percentile(const stats::EntryStats& window, double p) {
  if (window.num_requests == 0) return std::nullopt;
  return window.percentile_ms(p);
}

}  // namespace

RunReports::RunReports(ReportOutputs outputs)
    : outputs_(std::move(outputs)), recent_(outputs_.csv_full_history) {
  // All of it at once (~128 KiB): a vector doubling towards its cap over the first quarter
  // hour leaves its outgrown buffers behind in the heap, which a long run's memory shows as
  // growth long after it is warm (docs/performance.md#soak).
  history_.reserve(kMaxHistoryPoints);
}

RunReports::~RunReports() {
  if (history_file_) std::fclose(history_file_);
}

bool RunReports::prepare(std::string* error) {
  if (!outputs_.csv_prefix.empty()) {
    const std::string& prefix = outputs_.csv_prefix;
    for (const std::string& path : {stats_csv(prefix), history_csv(prefix), failures_csv(prefix), exceptions_csv(prefix)})
      if (!check_writable(path, "--csv", error)) return false;
    if (outputs_.open_model)
      for (const std::string& path : {service_stats_csv(prefix), iterations_csv(prefix)})
        if (!check_writable(path, "--csv", error)) return false;
  }
  if (!outputs_.html_file.empty() && !check_writable(outputs_.html_file, "--html", error)) return false;
  if (!outputs_.json_file.empty() && !check_writable(outputs_.json_file, "--json-file", error)) return false;
  if (!outputs_.junit_file.empty() && !check_writable(outputs_.junit_file, "--junit", error)) return false;
  return true;
}

void RunReports::begin() {
  if (begun_) return;
  begun_ = true;
  if (outputs_.csv_prefix.empty()) return;
  const std::string path = history_csv(outputs_.csv_prefix);
  history_file_ = std::fopen(path.c_str(), "w");
  if (!history_file_) {
    common::log_error("Cannot write %s: %s", path.c_str(), std::strerror(errno));
    failed_paths_.push_back(path);
  }
  append_history(csv::history_header());
  rewrite_csv(stats::RunStats{});
}

void RunReports::on_second(const stats::RunStats& run, double unix_s, int users) {
  recent_.close_second();
  const stats::EntryStats window = recent_.window(nullptr);
  const stats::EntryStats& total = run.book().total();
  HistoryPoint point{unix_s, users, run.current_rps(nullptr), run.current_fail_per_sec(nullptr),
                     window_percentile(window, 0.50), window_percentile(window, 0.95),
                     window_percentile(window, 0.99), total.num_requests, total.num_failures};
  if (outputs_.open_model) {
    point.iterations_per_s = run.current_iterations_per_sec();
    point.dropped_per_s = run.current_dropped_per_sec();
    if (window.service.count > 0) point.service_p99_ms = window.service.percentile_ms(0.99);
  }
  add_history_point(point);
  if (outputs_.csv_prefix.empty()) return;
  append_history(csv::history_rows({run, recent_, static_cast<std::int64_t>(std::floor(unix_s)), users,
                                    outputs_.csv_full_history}));
  if (++seconds_ % kCsvRewriteSeconds == 0) rewrite_csv(run);
}

namespace {

// `later` folded into `point`, which covered `seconds` seconds: rates are averaged, response
// times and users take the larger (a merged point must not hide a peak), counts the later.
void merge_history_point(HistoryPoint& point, const HistoryPoint& later, std::size_t seconds) {
  const double n = static_cast<double>(seconds);
  auto average = [n](double& into, double value) { into = (into * n + value) / (n + 1); };
  auto larger = [](std::optional<double>& into, const std::optional<double>& value) {
    if (value && (!into || *value > *into)) into = value;
  };
  point.users = std::max(point.users, later.users);
  average(point.rps, later.rps);
  average(point.failures_per_s, later.failures_per_s);
  larger(point.p50_ms, later.p50_ms);
  larger(point.p95_ms, later.p95_ms);
  larger(point.p99_ms, later.p99_ms);
  point.requests = later.requests;
  point.failures = later.failures;
  average(point.iterations_per_s, later.iterations_per_s);
  average(point.dropped_per_s, later.dropped_per_s);
  larger(point.service_p99_ms, later.service_p99_ms);
}

}  // namespace

void RunReports::add_history_point(const HistoryPoint& point) {
  if (history_pending_seconds_ > 0 && history_pending_seconds_ < history_stride_) {
    merge_history_point(history_.back(), point, history_pending_seconds_++);
    return;
  }
  if (history_.size() == kMaxHistoryPoints) {
    // Halve the resolution: each pair becomes one point, later points cover twice the time.
    std::size_t kept = 0;
    for (std::size_t i = 0; i + 1 < history_.size(); i += 2) {
      HistoryPoint merged = history_[i];
      merge_history_point(merged, history_[i + 1], 1);  // two points of equal weight
      history_[kept++] = merged;
    }
    history_.resize(kept);
    history_stride_ *= 2;
  }
  history_.push_back(point);
  history_pending_seconds_ = 1;
}

std::string RunReports::finish(const RunInfo& info, const stats::RunStats& run,
                               const std::vector<ThresholdResult>& thresholds) {
  begin();  // a test stopped before it started still gets its (empty) files
  const ReportContent content{info, run, history_, thresholds};
  std::string json = json_report(content);
  if (!outputs_.csv_prefix.empty()) {
    rewrite_csv(run);
    if (!thresholds.empty()) write_file(thresholds_csv(outputs_.csv_prefix), csv::thresholds_file(thresholds));
    if (!run.book().in_flight_at_stop().empty())
      write_file(outputs_.csv_prefix + "_in_flight.csv", csv::in_flight_file(run));
    if (outputs_.open_model) write_file(iterations_csv(outputs_.csv_prefix), csv::iterations_file(info, run));
  }
  if (history_file_) {
    std::fclose(history_file_);
    history_file_ = nullptr;
  }
  if (!outputs_.html_file.empty()) write_file(outputs_.html_file, html_report(content, json));
  if (!outputs_.json_file.empty()) write_file(outputs_.json_file, json);
  if (!outputs_.junit_file.empty()) write_file(outputs_.junit_file, junit_report(content));
  return json;
}

void RunReports::rewrite_csv(const stats::RunStats& run) {
  const std::string& prefix = outputs_.csv_prefix;
  write_file(stats_csv(prefix), csv::stats_file(run));
  write_file(failures_csv(prefix), csv::failures_file(run));
  write_file(exceptions_csv(prefix), csv::exceptions_file(run));
  if (outputs_.open_model) write_file(service_stats_csv(prefix), csv::service_stats_file(run));
}

void RunReports::write_file(const std::string& path, const std::string& content) {
  const ReportTarget target = report_target(path);
  const std::string temporary = target.in_place ? target.path : target.path + ".tmp";
  std::FILE* file = std::fopen(temporary.c_str(), "w");
  bool ok = file != nullptr;
  if (file) {
    ok = std::fwrite(content.data(), 1, content.size(), file) == content.size();
    ok = std::fclose(file) == 0 && ok;
  }
  if (!target.in_place) ok = ok && std::rename(temporary.c_str(), target.path.c_str()) == 0;
  if (ok) return;
  const int saved_errno = errno;
  if (!target.in_place) std::remove(temporary.c_str());
  if (std::find(failed_paths_.begin(), failed_paths_.end(), path) != failed_paths_.end()) return;
  failed_paths_.push_back(path);
  common::log_error("Cannot write %s: %s", path.c_str(), std::strerror(saved_errno));
}

void RunReports::append_history(const std::string& rows) {
  if (!history_file_) return;
  // Flushed every second, so the file is complete up to the last second whatever happens next.
  if (std::fputs(rows.c_str(), history_file_) < 0 || std::fflush(history_file_) != 0) {
    common::log_error("Cannot write %s: %s", history_csv(outputs_.csv_prefix).c_str(), std::strerror(errno));
    std::fclose(history_file_);
    history_file_ = nullptr;
  }
}

}  // namespace cicada::report
