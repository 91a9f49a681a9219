#include "runtime/report/thresholds.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <set>

#include "runtime/common/parse.h"
#include "runtime/common/text.h"
#include "runtime/report/text_format.h"

namespace cicada::report {

namespace {

constexpr std::string_view kOperatorChars = "<>=!";
constexpr std::string_view kKnownMetrics =
    "avg, min, max, median, a percentile such as p95 or p99.9, rps, failures, error_rate, requests, "
    "dropped_iterations";
constexpr std::string_view kExpressionShape = "[METHOD name | name] METRIC OP VALUE, like p95<100ms";

// A plain non-negative decimal number: digits with at most one '.'.
std::optional<double> parse_plain_number(std::string_view text) {
  if (text.empty() || text == ".") return std::nullopt;
  int dots = 0;
  for (char c : text) {
    if (c == '.') {
      if (++dots > 1) return std::nullopt;
    } else if (!std::isdigit(static_cast<unsigned char>(c))) {
      return std::nullopt;
    }
  }
  return std::strtod(std::string(text).c_str(), nullptr);
}

const char* comparison_text(Comparison comparison) {
  switch (comparison) {
    case Comparison::Less: return "<";
    case Comparison::LessEqual: return "<=";
    case Comparison::Greater: return ">";
    case Comparison::GreaterEqual: return ">=";
    case Comparison::Equal: return "==";
    case Comparison::NotEqual: return "!=";
  }
  return "?";
}

std::optional<Comparison> parse_comparison(std::string_view text) {
  if (text == "<") return Comparison::Less;
  if (text == "<=") return Comparison::LessEqual;
  if (text == ">") return Comparison::Greater;
  if (text == ">=") return Comparison::GreaterEqual;
  if (text == "==") return Comparison::Equal;
  if (text == "!=") return Comparison::NotEqual;
  return std::nullopt;
}

// Fills metric, percentile and metric_name from "p95", "P(99.9)", "median", "error_rate".
bool parse_metric(std::string_view token, Threshold* out, std::string* error) {
  const std::string name = common::lowercase_ascii(token);
  struct Named {
    const char* name;
    ThresholdMetric metric;
  };
  static constexpr Named kNamed[] = {
      {"avg", ThresholdMetric::Avg},           {"min", ThresholdMetric::Min},
      {"max", ThresholdMetric::Max},           {"median", ThresholdMetric::Median},
      {"rps", ThresholdMetric::Rps},           {"failures", ThresholdMetric::Failures},
      {"error_rate", ThresholdMetric::ErrorRate}, {"requests", ThresholdMetric::Requests},
      {"dropped_iterations", ThresholdMetric::DroppedIterations},
  };
  for (const Named& named : kNamed) {
    if (name == named.name) {
      out->metric = named.metric;
      out->metric_name = named.name;
      return true;
    }
  }
  if (name.size() > 1 && name[0] == 'p') {
    std::string_view number = std::string_view(name).substr(1);
    if (number.size() > 2 && number.front() == '(' && number.back() == ')') number = number.substr(1, number.size() - 2);
    if (auto percent = parse_plain_number(number)) {
      // Six decimals, as the threshold is shown: p0.0000001 is p0, which does not exist.
      const std::string shown = format_decimal(*percent, 6);
      percent = std::strtod(shown.c_str(), nullptr);
      if (*percent <= 0 || *percent > 100) {
        *error = "percentile '" + std::string(token) + "' must be above p0 and at most p100";
        return false;
      }
      out->metric = ThresholdMetric::Percentile;
      out->percentile = *percent / 100.0;
      out->metric_name = "p" + shown;
      return true;
    }
  }
  *error = "unknown metric '" + std::string(token) + "' (known: " + std::string(kKnownMetrics) + ")";
  return false;
}

// Fills comparison, limit and limit_text from "<100ms", ">= 1000", "<1%".
bool parse_condition(std::string_view condition, Threshold* out, std::string* error) {
  condition = common::trim_space(condition);
  std::size_t op_length = 0;
  while (op_length < condition.size() && kOperatorChars.find(condition[op_length]) != std::string_view::npos) ++op_length;
  const std::string_view op = condition.substr(0, op_length);
  auto comparison = parse_comparison(op);
  if (!comparison) {
    *error = op.empty() ? "no comparison in '" + std::string(condition) + "': start it with <, <=, >, >=, == or !="
                        : "unknown comparison '" + std::string(op) + "' (use <, <=, >, >=, == or !=)";
    return false;
  }
  const std::string_view value = common::trim_space(condition.substr(op_length));
  std::size_t number_length = 0;
  while (number_length < value.size() &&
         (std::isdigit(static_cast<unsigned char>(value[number_length])) || value[number_length] == '.'))
    ++number_length;
  auto number = parse_plain_number(value.substr(0, number_length));
  if (!number) {
    *error = "expected a number after '" + std::string(op) + "', got '" + std::string(value) + "'";
    return false;
  }
  const std::string_view written_unit = common::trim_space(value.substr(number_length));
  const std::string unit = common::lowercase_ascii(written_unit);
  const std::string not_unit = "not '" + std::string(written_unit) + "'";
  out->comparison = *comparison;
  out->limit_text = std::string(value.substr(0, number_length)) + std::string(written_unit);

  const std::string what = out->metric_name;
  switch (out->metric) {
    case ThresholdMetric::Avg:
    case ThresholdMetric::Min:
    case ThresholdMetric::Max:
    case ThresholdMetric::Median:
    case ThresholdMetric::Percentile:
      if (unit.empty() || unit == "ms") {
        out->limit = *number;
      } else if (unit == "s") {
        out->limit = *number * 1000.0;
      } else if (unit == "us" || unit == "\xc2\xb5s") {
        out->limit = *number / 1000.0;
      } else {
        *error = what + " is a response time: give it in ms, s or us (like 100ms), " + not_unit;
        return false;
      }
      return true;
    case ThresholdMetric::ErrorRate:
      if (unit == "%") {
        out->limit = *number / 100.0;
      } else if (unit.empty() && *number <= 1.0) {
        out->limit = *number;
      } else {
        *error = unit.empty() ? "error_rate " + std::string(op) + " " + std::string(value) +
                                    ": write a percentage (" + std::string(value) + "%) or a ratio between 0 and 1"
                              : "error_rate is a percentage (like 1%) or a ratio (like 0.01), " + not_unit;
        return false;
      }
      return true;
    case ThresholdMetric::Rps:
      if (!unit.empty() && unit != "/s") {
        *error = "rps is requests per second: give a plain number (like >1000), " + not_unit;
        return false;
      }
      out->limit = *number;
      return true;
    case ThresholdMetric::Failures:
    case ThresholdMetric::Requests:
    case ThresholdMetric::DroppedIterations:
      if (!unit.empty() || *number != std::floor(*number)) {
        *error = what + " is a count: give a whole number (like <10)";
        return false;
      }
      out->limit = *number;
      return true;
  }
  return false;
}

// The stats a selector stands for: Aggregated, one (method, name) entry, or all methods of a
// name merged. nullptr when nothing matched.
const stats::EntryStats* select_entry(const std::string& selector, const stats::StatsBook& book,
                                      stats::EntryStats* merged) {
  if (selector.empty()) return &book.total();
  if (const auto space = selector.find(' '); space != std::string::npos) {
    if (const auto* entry = book.find(selector.substr(0, space), selector.substr(space + 1))) return entry;
  }
  bool found = false;
  book.for_each_entry([&](const stats::EntryKey& key, const stats::EntryStats& entry) {
    if (key.name != selector) return;
    merged->merge(entry);
    found = true;
  });
  return found ? merged : nullptr;
}

}  // namespace

bool Threshold::is_time() const {
  switch (metric) {
    case ThresholdMetric::Avg:
    case ThresholdMetric::Min:
    case ThresholdMetric::Max:
    case ThresholdMetric::Median:
    case ThresholdMetric::Percentile:
      return true;
    default:
      return false;
  }
}

const char* Threshold::unit() const {
  if (is_time()) return "ms";
  switch (metric) {
    case ThresholdMetric::ErrorRate: return "ratio";
    case ThresholdMetric::Rps: return "per_second";
    default: return "count";
  }
}

std::string Threshold::text() const {
  std::string out = selector.empty() ? "" : selector + " ";
  return out + metric_name + " " + comparison_text(comparison) + " " + limit_text;
}

std::string Threshold::key() const {
  // The median is the 50th percentile, whichever way it was written.
  const bool median = metric == ThresholdMetric::Median || (metric == ThresholdMetric::Percentile && percentile == 0.5);
  return selector + '\x1f' + (median ? std::string("p50") : metric_name);
}

std::optional<Threshold> parse_threshold_parts(std::string_view key, std::string_view condition,
                                               std::string* error) {
  key = common::trim_space(key);
  if (key.empty()) {
    *error = "a threshold needs a metric (" + std::string(kExpressionShape) + ")";
    return std::nullopt;
  }
  Threshold threshold;
  std::size_t metric_start = key.size();
  while (metric_start > 0 && !std::isspace(static_cast<unsigned char>(key[metric_start - 1]))) --metric_start;
  if (!parse_metric(key.substr(metric_start), &threshold, error)) return std::nullopt;
  threshold.selector = std::string(common::trim_space(key.substr(0, metric_start)));
  if (threshold.selector == "Aggregated") threshold.selector.clear();
  if (threshold.metric == ThresholdMetric::DroppedIterations && !threshold.selector.empty()) {
    *error = "dropped_iterations counts the whole run's iterations: write it without '" + threshold.selector + "'";
    return std::nullopt;
  }
  if (!parse_condition(condition, &threshold, error)) return std::nullopt;
  return threshold;
}

std::optional<Threshold> parse_threshold(std::string_view expression, std::string* error) {
  std::string_view rest = common::trim_space(expression);
  bool abort_on_fail = false;
  std::optional<double> delay_s;
  // Options trail the condition: "p95<100ms abort_on_fail delay=10s".
  while (true) {
    const std::size_t space = rest.find_last_of(" \t");
    if (space == std::string_view::npos) break;
    const std::string_view word = rest.substr(space + 1);
    if (word == "abort_on_fail") {
      abort_on_fail = true;
    } else if (word.starts_with("delay=")) {
      delay_s = common::parse_duration(word.substr(6));
      if (!delay_s) {
        *error = "delay needs a duration like 10s, got '" + std::string(word.substr(6)) + "'";
        return std::nullopt;
      }
    } else {
      break;
    }
    rest = common::trim_space(rest.substr(0, space));
  }
  if (delay_s && !abort_on_fail) {
    *error = "delay= only applies with abort_on_fail";
    return std::nullopt;
  }
  // The comparison is the last run of operator characters: a name may hold '=' ("/q?id=1").
  const std::size_t op_end = rest.find_last_of(kOperatorChars);
  if (op_end == std::string_view::npos) {
    *error = "no comparison in '" + std::string(rest) + "' (" + std::string(kExpressionShape) + ")";
    return std::nullopt;
  }
  std::size_t op_start = op_end;
  while (op_start > 0 && kOperatorChars.find(rest[op_start - 1]) != std::string_view::npos) --op_start;
  auto threshold = parse_threshold_parts(rest.substr(0, op_start), rest.substr(op_start), error);
  if (!threshold) return std::nullopt;
  threshold->abort_on_fail = abort_on_fail;
  threshold->delay_s = delay_s.value_or(0);
  return threshold;
}

void add_threshold_layer(std::vector<Threshold>& thresholds, const std::vector<Threshold>& layer) {
  std::set<std::string> replaced;
  for (const Threshold& added : layer) replaced.insert(added.key());
  std::erase_if(thresholds, [&](const Threshold& t) { return replaced.contains(t.key()); });
  // Conditions of one layer on one key all hold together ("p95 > 1ms" and "p95 < 100ms").
  thresholds.insert(thresholds.end(), layer.begin(), layer.end());
}

Measurement measure(const Threshold& threshold, const stats::RunStats& run) {
  // Known whether or not any request was made (none may have been: every iteration dropped).
  if (threshold.metric == ThresholdMetric::DroppedIterations)
    return {true, static_cast<double>(run.book().iterations_dropped())};
  stats::EntryStats merged;
  const stats::EntryStats* entry = select_entry(threshold.selector, run.book(), &merged);
  if (!entry || entry->num_requests == 0) return {};
  Measurement m{true, 0};
  switch (threshold.metric) {
    case ThresholdMetric::Avg: m.value = entry->avg_ms(); break;
    case ThresholdMetric::Min: m.value = entry->min_ms(); break;
    case ThresholdMetric::Max: m.value = entry->max_ms(); break;
    case ThresholdMetric::Median: m.value = entry->median_ms(); break;
    case ThresholdMetric::Percentile: m.value = entry->percentile_ms(threshold.percentile); break;
    case ThresholdMetric::Rps: m.value = run.total_rps(*entry); break;
    case ThresholdMetric::Failures: m.value = static_cast<double>(entry->num_failures); break;
    case ThresholdMetric::ErrorRate: m.value = entry->fail_ratio(); break;
    case ThresholdMetric::Requests: m.value = static_cast<double>(entry->num_requests); break;
    case ThresholdMetric::DroppedIterations: break;  // measured above
  }
  return m;
}

bool holds(const Threshold& threshold, double value) {
  switch (threshold.comparison) {
    case Comparison::Less: return value < threshold.limit;
    case Comparison::LessEqual: return value <= threshold.limit;
    case Comparison::Greater: return value > threshold.limit;
    case Comparison::GreaterEqual: return value >= threshold.limit;
    case Comparison::Equal: return value == threshold.limit;
    case Comparison::NotEqual: return value != threshold.limit;
  }
  return false;
}

std::string format_threshold_value(const Threshold& threshold, const Measurement& measurement) {
  if (!measurement.has_data) return "no requests";
  if (threshold.is_time()) return format_ms_exact(measurement.value) + " ms";
  switch (threshold.metric) {
    case ThresholdMetric::ErrorRate: return format_decimal(measurement.value * 100.0, 3) + "%";
    case ThresholdMetric::Rps: return format_decimal(measurement.value, 2) + "/s";
    default: return format_decimal(measurement.value, 0);
  }
}

bool metric_moves_one_way(ThresholdMetric metric) {
  return metric == ThresholdMetric::Requests || metric == ThresholdMetric::Failures || metric == ThresholdMetric::Max ||
         metric == ThresholdMetric::Min || metric == ThresholdMetric::DroppedIterations;
}

bool failure_is_permanent(const Threshold& threshold, double value) {
  if (!metric_moves_one_way(threshold.metric) || holds(threshold, value)) return false;
  const bool grows = threshold.metric != ThresholdMetric::Min;
  switch (threshold.comparison) {
    case Comparison::Less:
    case Comparison::LessEqual:
      return grows;
    case Comparison::Greater:
    case Comparison::GreaterEqual:
      return !grows;
    case Comparison::Equal:
      return grows ? value > threshold.limit : value < threshold.limit;
    case Comparison::NotEqual:
      return false;
  }
  return false;
}

ThresholdEvaluator::ThresholdEvaluator(std::vector<Threshold> thresholds)
    : thresholds_(std::move(thresholds)), abort_states_(thresholds_.size()) {}

const Threshold* ThresholdEvaluator::check_abort(const stats::RunStats& run, const Moment& now) {
  for (std::size_t i = 0; i < thresholds_.size(); ++i) {
    const Threshold& threshold = thresholds_[i];
    AbortState& state = abort_states_[i];
    if (!threshold.abort_on_fail) continue;
    const Measurement m = measure(threshold, run);
    const bool failing = m.has_data && !holds(threshold, m.value);
    // One-way metrics past their bound are sure at once; the others only count once the ramp
    // is over, and then must fail at every check for the whole delay.
    const bool counts = now.stats_final && failing &&
                        (metric_moves_one_way(threshold.metric) ? failure_is_permanent(threshold, m.value)
                                                                : now.all_users_running);
    if (!counts) {
      state.failing_since_s.reset();
      continue;
    }
    if (!state.failing_since_s) state.failing_since_s = now.elapsed_s;
    if (now.elapsed_s - *state.failing_since_s + 1e-9 < threshold.delay_s) continue;
    state.aborted = true;
    state.note = "stopped the test after " + format_decimal(now.elapsed_s, 1) + " s, when " + threshold.metric_name +
                 " was " + format_threshold_value(threshold, m);
    return &threshold;
  }
  return nullptr;
}

std::vector<ThresholdResult> ThresholdEvaluator::evaluate(const stats::RunStats& run) const {
  std::vector<ThresholdResult> results;
  results.reserve(thresholds_.size());
  for (std::size_t i = 0; i < thresholds_.size(); ++i) {
    ThresholdResult result;
    result.threshold = thresholds_[i];
    result.measurement = measure(thresholds_[i], run);
    result.aborted_test = abort_states_[i].aborted;
    result.abort_note = abort_states_[i].note;
    // A test it stopped is incomplete: the threshold fails even if the last requests' numbers
    // happen to bring the value back.
    result.passed =
        !result.aborted_test && result.measurement.has_data && holds(thresholds_[i], result.measurement.value);
    results.push_back(std::move(result));
  }
  return results;
}

}  // namespace cicada::report
