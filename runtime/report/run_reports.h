#pragma once
// The report files of a run (--csv, --html, --json-file, --junit) over its life: checked before
// any traffic, the CSV files kept current while it runs, everything written at the end. Files
// that are rewritten go through a temporary file and a rename, so a reader (or a run stopped
// hard) never sees half a file.
#include <cstdio>
#include <string>
#include <vector>

#include "runtime/report/history.h"
#include "runtime/report/run_info.h"
#include "runtime/report/thresholds.h"
#include "runtime/stats/run_stats.h"

namespace cicada::report {

struct ReportOutputs {
  std::string csv_prefix;  // empty: no CSV
  bool csv_full_history = false;
  std::string html_file;   // placeholders already expanded
  std::string json_file;
  std::string junit_file;
  bool open_model = false;  // the CSV prefix also gets PREFIX_service_stats.csv and PREFIX_iterations.csv
};

class RunReports {
 public:
  // Locust rewrites its CSV files every second; cicada every other one, with the console table.
  static constexpr int kCsvRewriteSeconds = 2;
  // The history holds one point a second until kMaxHistoryPoints: then pairs are merged and
  // later points cover twice as many seconds, so that a run of hours keeps a bounded history
  // (the charts need no more; the history CSV keeps every second on disk).
  static constexpr std::size_t kMaxHistoryPoints = 1000;

  explicit RunReports(ReportOutputs outputs);
  ~RunReports();
  RunReports(const RunReports&) = delete;
  RunReports& operator=(const RunReports&) = delete;

  // Creates missing folders and makes sure every file can be written. Call before any traffic.
  bool prepare(std::string* error);
  // The test starts: the CSV files are created with their headers.
  void begin();
  // Every stats delta a worker reports (for the current percentiles).
  void add_delta(const stats::StatsBook& delta) { recent_.add(delta); }
  // --reset-stats: the recent response times go with the rest.
  void reset() { recent_.clear(); }
  // Once a second, after RunStats::close_second(): a history point, the history CSV rows and,
  // every kCsvRewriteSeconds, the other CSV files.
  void on_second(const stats::RunStats& run, double unix_s, int users);
  // Writes every file and returns the JSON summary (for --json).
  std::string finish(const RunInfo& info, const stats::RunStats& run, const std::vector<ThresholdResult>& thresholds);

  const std::vector<HistoryPoint>& history() const { return history_; }
  const RecentResponseTimes& recent() const { return recent_; }

 private:
  void rewrite_csv(const stats::RunStats& run);
  // Writes `content` to `path` through `path`.tmp and a rename; logs (once per file) on failure.
  void write_file(const std::string& path, const std::string& content);
  void append_history(const std::string& rows);

  ReportOutputs outputs_;
  RecentResponseTimes recent_;
  void add_history_point(const HistoryPoint& point);
  std::vector<HistoryPoint> history_;
  std::size_t history_stride_ = 1;         // seconds per point
  std::size_t history_pending_seconds_ = 0;  // seconds merged into history_.back() so far
  std::FILE* history_file_ = nullptr;
  bool begun_ = false;
  int seconds_ = 0;
  std::vector<std::string> failed_paths_;  // already reported as unwritable
};

}  // namespace cicada::report
