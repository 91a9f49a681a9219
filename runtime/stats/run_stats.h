#pragma once
// The coordinator's view of a run: merged totals plus per-second history for "current" rates.
#include <cstdint>
#include <deque>
#include <map>

#include "runtime/stats/stats_book.h"

namespace cicada::stats {

class RunStats {
 public:
  static constexpr int kCurrentWindowSeconds = 10;

  // Called with each worker's delta as it arrives.
  void merge_delta(const StatsBook& delta);
  // Only the exceptions of `book` (a report from before --reset-stats, the coordinator's own).
  void merge_exceptions(const StatsBook& book) { book_.merge_exceptions(book); }
  // Called once a second by the coordinator: closes the current one-second bucket of request
  // and failure counts (per entry and Aggregated) used for current_rps / current_fail_per_sec.
  void close_second();
  // Forget the requests and failures (Locust's --reset-stats) and restart the clock at `now_s`.
  // Exceptions are kept: an error raised during the ramp is still an error.
  void reset(double now_s);

  // Run clock, in seconds on any monotonic scale the caller uses consistently.
  void set_start_time(double s) { start_s_ = s; }
  void note_time(double now_s) { last_s_ = now_s; }
  double duration_s() const { return last_s_ > start_s_ ? last_s_ - start_s_ : 0.0; }

  const StatsBook& book() const { return book_; }

  // Averages over the last kCurrentWindowSeconds closed seconds (fewer at the start).
  double current_rps(const EntryKey* key) const;  // nullptr = Aggregated
  double current_fail_per_sec(const EntryKey* key) const;
  // Open model: iterations started and dropped per second, over the same window.
  double current_iterations_per_sec() const;
  double current_dropped_per_sec() const;
  // Over the whole run: count / duration_s().
  double total_rps(const EntryStats& e) const;
  double total_fail_per_sec(const EntryStats& e) const;

 private:
  struct Rates {
    std::uint64_t pending_requests = 0;
    std::uint64_t pending_failures = 0;
    std::deque<std::pair<std::uint64_t, std::uint64_t>> closed;  // newest at back
  };
  Rates& rates_for(const EntryKey* key);
  const Rates* find_rates(const EntryKey* key) const;

  StatsBook book_;
  std::map<EntryKey, Rates> entry_rates_;
  Rates total_rates_;
  Rates iteration_rates_;  // "requests" = iterations started, "failures" = iterations dropped
  double start_s_ = 0;
  double last_s_ = 0;
};

}  // namespace cicada::stats
