#pragma once
// Thresholds: pass/fail criteria on a run's statistics, k6's idea with Locust's entries.
//
// A threshold is "[SELECTOR] METRIC OP VALUE[UNIT]": `p95<100ms`, `GET /items p99 < 200ms`,
// `/health max<=1s`, `error_rate<1%`, `rps>1000`. The selector picks the Aggregated row (none,
// or `Aggregated`), an entry by `METHOD name`, or every entry with that name whatever its
// method. They come from cicada.thresholds{} in the script and from --threshold; the end of the
// run evaluates them, and with abort_on_fail a threshold that is surely broken stops the test.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/stats/run_stats.h"

namespace cicada::report {

// DroppedIterations: the open model's iterations dropped for want of a free user (k6's
// dropped_iterations), counted for the whole run.
enum class ThresholdMetric { Avg, Min, Max, Median, Percentile, Rps, Failures, ErrorRate, Requests, DroppedIterations };
enum class Comparison { Less, LessEqual, Greater, GreaterEqual, Equal, NotEqual };

struct Threshold {
  std::string selector;     // "" = Aggregated; "GET /items"; "/items" (every method)
  ThresholdMetric metric = ThresholdMetric::Avg;
  double percentile = 0;    // in (0, 1] when metric is Percentile
  std::string metric_name;  // as it is displayed: "p95", "p99.9", "error_rate"
  Comparison comparison = Comparison::Less;
  // Times in ms, error_rate as a ratio, requests/s, or a count.
  double limit = 0;
  std::string limit_text;   // as written, without spaces: "100ms", "1%", "1000"
  bool abort_on_fail = false;
  double delay_s = 0;       // abort only once the threshold has failed for this long
  std::string source;       // where it was declared: "command line", "shop.lua:12"

  // "GET /items p99 < 200ms"
  std::string text() const;
  // Selector and metric: a threshold from a higher layer replaces those with the same key.
  std::string key() const;
  bool is_time() const;
  // The unit of `limit` and of measured values: "ms", "ratio", "per_second" or "count".
  const char* unit() const;
};

// A whole expression, as given to --threshold: "GET /items p95<100ms", optionally followed by
// "abort_on_fail" and "delay=10s". Returns nullopt and sets `error` when malformed.
std::optional<Threshold> parse_threshold(std::string_view expression, std::string* error);
// The script's form: a key ("GET /items p95") and one condition ("<100ms").
std::optional<Threshold> parse_threshold_parts(std::string_view key, std::string_view condition,
                                               std::string* error);

// Adds `layer` to `thresholds`; a threshold in `layer` replaces every earlier one with its key.
void add_threshold_layer(std::vector<Threshold>& thresholds, const std::vector<Threshold>& layer);

struct Measurement {
  bool has_data = false;  // false when no request matched the selector
  double value = 0;       // in the unit of Threshold::limit
};
Measurement measure(const Threshold& threshold, const stats::RunStats& run);
bool holds(const Threshold& threshold, double value);
// The measured value for people: "12.345 ms", "0.5%", "1043.20/s", "17".
std::string format_threshold_value(const Threshold& threshold, const Measurement& measurement);

struct ThresholdResult {
  Threshold threshold;
  Measurement measurement;
  bool passed = false;
  bool aborted_test = false;  // it stopped the test early (and so failed)
  std::string abort_note;     // "failed at 12 s (p95 was 130.2 ms)"
};

// Evaluates a run's thresholds at the end, and once a second while it runs for abort_on_fail.
class ThresholdEvaluator {
 public:
  explicit ThresholdEvaluator(std::vector<Threshold> thresholds);

  struct Moment {
    double elapsed_s = 0;            // since the test started
    bool all_users_running = false;  // the ramp is over
    bool stats_final = true;         // no --reset-stats is still to come
  };
  // The first abort_on_fail threshold that is now surely broken (see docs/reports.md), or
  // nullptr. Remembers it, so that evaluate() reports it as the one that aborted the test.
  const Threshold* check_abort(const stats::RunStats& run, const Moment& now);

  std::vector<ThresholdResult> evaluate(const stats::RunStats& run) const;
  const std::vector<Threshold>& thresholds() const { return thresholds_; }
  bool empty() const { return thresholds_.empty(); }

 private:
  struct AbortState {
    std::optional<double> failing_since_s;
    std::string note;
    bool aborted = false;
  };
  std::vector<Threshold> thresholds_;
  std::vector<AbortState> abort_states_;
};

// requests, failures and max only grow during a run, min only shrinks; the others (avg,
// percentiles, rates) go up and down as requests come in.
bool metric_moves_one_way(ThresholdMetric metric);
// True when `threshold` fails at `value` and can never pass again: a one-way metric already
// past its bound in the direction it moves.
bool failure_is_permanent(const Threshold& threshold, double value);

}  // namespace cicada::report
