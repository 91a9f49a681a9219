#pragma once
// What a run looked like second by second: the points behind the HTML charts and the JSON
// history, and the "current" response times behind them and PREFIX_stats_history.csv.
#include <cstdint>
#include <deque>
#include <map>
#include <optional>

#include "runtime/stats/run_stats.h"

namespace cicada::report {

// The Aggregated numbers at one closed second. Rates and percentiles are "current" ones, over
// the last RecentResponseTimes::kWindowSeconds, as Locust's charts and history CSV show them.
struct HistoryPoint {
  double unix_s = 0;
  int users = 0;
  double rps = 0;
  double failures_per_s = 0;
  std::optional<double> p50_ms, p95_ms, p99_ms;  // nullopt: no request in the window
  std::uint64_t requests = 0;                    // since the start (or --reset-stats)
  std::uint64_t failures = 0;
  // Open model: iterations started and dropped per second, and the service times' p99.
  double iterations_per_s = 0;
  double dropped_per_s = 0;
  std::optional<double> service_p99_ms;
};

// The response times of the last seconds, in total and (when asked for) per entry: the worker
// deltas of each second are kept apart, so a window can be merged on demand.
class RecentResponseTimes {
 public:
  // Locust's current percentiles look back 10 seconds, as RunStats' current rates do.
  static constexpr int kWindowSeconds = stats::RunStats::kCurrentWindowSeconds;

  explicit RecentResponseTimes(bool per_entry) : per_entry_(per_entry) {}

  void add(const stats::StatsBook& delta);
  void close_second();
  void clear();
  // The requests of the window merged (empty when there were none); nullptr = Aggregated.
  // Per-entry windows exist only when constructed with per_entry.
  stats::EntryStats window(const stats::EntryKey* key) const;

 private:
  struct Seconds {
    std::deque<stats::EntryStats> closed;  // newest at the back
    stats::EntryStats pending;
  };
  static void close(Seconds& seconds);

  bool per_entry_;
  Seconds total_;
  std::map<stats::EntryKey, Seconds> entries_;
};

}  // namespace cicada::report
