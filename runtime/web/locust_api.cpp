#include "runtime/web/locust_api.h"

#include <cmath>

#include "runtime/common/json.h"
#include "runtime/common/parse.h"
#include "runtime/report/percentiles.h"
#include "runtime/report/report_rows.h"
#include "runtime/report/text_format.h"
#include "runtime/target/endpoints.h"

namespace cicada::web {

namespace {

using common::json::Writer;

// Locust's page and API show at most this many entries and errors (the Aggregated entry kept).
constexpr std::size_t kMaxListed = 500;
// The exceptions' "nodes" where there are no workers (Locust: the master's or local runner's).
constexpr std::string_view kLocalNode = "local";

// Locust stores response times rounded (whole ms below 100 ms, tens of ms below 1 s, hundreds
// above) and so reports its percentiles that way; its names keep that meaning, and cicada's
// own fields carry the exact values.
double locust_rounded_ms(double ms) {
  if (ms < 100) return std::round(ms);
  if (ms < 1000) return std::round(ms / 10) * 10;
  return std::round(ms / 100) * 100;
}

// Milliseconds to the microsecond: what the histograms hold exactly.
double exact_ms(double ms) { return std::round(ms * 1000) / 1000; }

std::string percentile_key(const char* prefix, double p) {
  // Python's str() of Locust's percentile floats: 0.5, 0.95, 0.99, 0.999, 1.0.
  char number[32];
  std::snprintf(number, sizeof number, "%.6g", p);
  std::string text = number;
  if (text.find('.') == std::string::npos) text += ".0";
  return prefix + text;
}

void write_entry(Writer& w, const stats::RunStats& run, const stats::EntryKey* key, const stats::EntryStats& e) {
  w.begin_object();
  if (key) {
    w.field("method", key->method).field("name", key->name).field("safe_name", report::escape_markup(key->name));
  } else {
    w.key("method").null().field("name", "Aggregated").field("safe_name", "Aggregated");
  }
  const bool empty = e.num_requests == 0;
  w.field("num_requests", e.num_requests)
      .field("num_failures", e.num_failures)
      .field("avg_response_time", e.avg_ms())
      .field("min_response_time", empty ? 0.0 : std::round(e.min_ms()))
      .field("max_response_time", std::round(e.max_ms()))
      .field("current_rps", run.current_rps(key))
      .field("current_fail_per_sec", run.current_fail_per_sec(key))
      .field("total_rps", run.total_rps(e))
      .field("total_fail_per_sec", run.total_fail_per_sec(e))
      .field("median_response_time", locust_rounded_ms(e.median_ms()))
      .field("ninetieth_response_time", locust_rounded_ms(e.percentile_ms(0.9)))
      .field("ninety_ninth_response_time", locust_rounded_ms(e.percentile_ms(0.99)));
  for (double p : {0.5, 0.95, 0.99}) w.field(percentile_key("response_time_percentile_", p), locust_rounded_ms(e.percentile_ms(p)));
  w.field("avg_content_length", e.avg_content_length());
  // cicada's own: the exact times.
  w.field("min_response_time_exact", exact_ms(e.min_ms()))
      .field("max_response_time_exact", exact_ms(e.max_ms()))
      .key("response_time_percentiles_exact")
      .begin_object();
  for (double p : report::kReportedPercentiles) w.field(percentile_key("", p), exact_ms(e.percentile_ms(p)));
  w.end_object().end_object();
}

void write_thresholds(Writer& w, const std::vector<report::ThresholdResult>& results) {
  w.key("thresholds").begin_array();
  for (const report::ThresholdResult& result : results) {
    w.begin_object()
        .field("threshold", result.threshold.text())
        .field("source", result.threshold.source)
        .field("value", report::format_threshold_value(result.threshold, result.measurement))
        .field("has_data", result.measurement.has_data)
        .field("passed", result.passed)
        .field("aborted_test", result.aborted_test)
        .end_object();
  }
  w.end_array();
}

}  // namespace

std::string stats_requests_json(const control::RunSnapshot& run, const control::RunReportView& report) {
  const stats::RunStats& stats = *run.stats;
  const stats::EntryStats& total = stats.book().total();
  std::string out;
  Writer w(out);
  w.begin_object().key("stats").begin_array();
  const auto entries = stats.book().sorted_entries();
  for (std::size_t i = 0; i < entries.size() && i < kMaxListed; ++i) write_entry(w, stats, &entries[i].first, *entries[i].second);
  write_entry(w, stats, nullptr, total);
  w.end_array();

  w.key("errors").begin_array();
  std::size_t listed = 0;
  for (const auto& [key, occurrences] : report::failures_by_count(stats.book())) {
    if (listed++ == kMaxListed) break;
    w.begin_object()
        .field("method", key->method)
        .field("name", key->name)
        .field("error", key->error)
        .field("occurrences", occurrences)
        .end_object();
  }
  w.end_array();

  const double current_rps = stats.current_rps(nullptr);
  const double current_fail_per_sec = stats.current_fail_per_sec(nullptr);
  w.field("state", control::phase_name(run.phase))
      .field("user_count", run.running_users)
      .field("fail_ratio", total.fail_ratio())
      .field("current_rps", current_rps)
      .field("current_fail_per_sec", current_fail_per_sec)
      // Locust's meaning before 2.45 (and the exporters'): the current rate.
      .field("total_rps", current_rps)
      .field("total_fail_per_sec", current_fail_per_sec);
  const stats::EntryStats& recent = report.recent;
  const auto current = [&recent](double p) { return recent.num_requests ? locust_rounded_ms(recent.percentile_ms(p)) : 0.0; };
  w.key("current_response_time_percentiles").begin_object();
  for (double p : {0.5, 0.95}) w.field(percentile_key("response_time_percentile_", p), current(p));
  w.end_object();
  // Locust 2.12's names (exporters still read them).
  w.field("current_response_time_percentile_50", current(0.5)).field("current_response_time_percentile_95", current(0.95));

  // cicada's own.
  w.key("current_response_time_percentiles_exact").begin_object();
  for (double p : {0.5, 0.95, 0.99})
    w.field(percentile_key("", p), recent.num_requests ? exact_ms(recent.percentile_ms(p)) : 0.0);
  w.end_object();
  w.field("target_users", run.target_users)
      .field("spawn_rate", run.spawn_rate)
      .field("open_model", run.open_model)
      .field("shape_driven", run.shape_driven)
      .field("elapsed_s", stats.duration_s())
      .field("stop_reason", run.stop_reason)
      .field("host", report.info.host)
      .field("exceptions_count", static_cast<std::uint64_t>(stats.book().exceptions().size()))
      .field("iterations_started", stats.book().iterations_started())
      .field("iterations_dropped", stats.book().iterations_dropped());
  write_thresholds(w, report.thresholds);
  if (run.distributed) {
    // Locust's master: each worker, with its state, users and what its heartbeat says.
    w.key("workers").begin_array();
    for (const loop::RemoteWorkerInfo& worker : run.remote_workers)
      w.begin_object()
          .field("id", worker.id)
          .field("index", worker.index)
          .field("state", worker.state)
          .field("user_count", worker.users)
          .field("cpu_usage", worker.cpu_percent)
          .field("memory_usage", worker.memory_bytes)
          .end_object();
    w.end_array().field("worker_count", connected_worker_count(run));
  }
  w.end_object();
  return out;
}

int connected_worker_count(const control::RunSnapshot& run) {
  int count = 0;
  for (const loop::RemoteWorkerInfo& worker : run.remote_workers) count += worker.state != "missing" ? 1 : 0;
  return count;
}

std::string exceptions_json(const stats::RunStats& run) {
  std::string out;
  Writer w(out);
  w.begin_object().key("exceptions").begin_array();
  for (const stats::ExceptionRecord* record : report::exceptions_by_count(run.book())) {
    w.begin_object()
        .field("count", record->count)
        .field("msg", record->message)
        .field("traceback", record->traceback)
        .field("nodes", kLocalNode)
        .end_object();
  }
  w.end_array().end_object();
  return out;
}

std::string logs_json(const std::vector<std::string>& lines) {
  std::string out;
  Writer w(out);
  w.begin_object().key("master").begin_array();
  for (const std::string& line : lines) w.string(line);
  w.end_array().key("workers").begin_object().end_object().end_object();
  return out;
}

std::string history_json(const std::vector<report::HistoryPoint>& history, std::size_t since) {
  std::string out;
  Writer w(out);
  const auto optional_ms = [&w](const char* name, const std::optional<double>& ms) {
    w.key(name);
    if (ms) {
      w.number(exact_ms(*ms));
    } else {
      w.null();
    }
  };
  w.begin_object().field("next", static_cast<std::uint64_t>(history.size())).key("points").begin_array();
  for (std::size_t i = since; i < history.size(); ++i) {
    const report::HistoryPoint& point = history[i];
    w.begin_object()
        .field("time", point.unix_s)
        .field("users", point.users)
        .field("rps", point.rps)
        .field("failures_per_s", point.failures_per_s);
    optional_ms("p50_ms", point.p50_ms);
    optional_ms("p95_ms", point.p95_ms);
    optional_ms("p99_ms", point.p99_ms);
    w.end_object();
  }
  w.end_array().end_object();
  return out;
}

std::string outcome_json(bool success, std::string_view message, std::string_view more_fields) {
  std::string out;
  Writer w(out);
  w.begin_object().field("success", success).field("message", message);
  if (!more_fields.empty()) w.raw(more_fields);
  w.end_object();
  return out;
}

FormFields parse_form(std::string_view body) {
  FormFields fields;
  while (!body.empty()) {
    const std::size_t end = body.find('&');
    const std::string_view pair = body.substr(0, end);
    body = end == std::string_view::npos ? std::string_view{} : body.substr(end + 1);
    if (pair.empty()) continue;
    const std::size_t equals = pair.find('=');
    std::string name, value;
    target::append_url_decoded(name, pair.substr(0, equals), target::UrlPart::query);
    if (equals != std::string_view::npos) target::append_url_decoded(value, pair.substr(equals + 1), target::UrlPart::query);
    fields.emplace_back(std::move(name), std::move(value));
  }
  return fields;
}

SwarmForm read_swarm_form(const FormFields& fields) {
  SwarmForm form;
  const auto fail = [&form](std::string message) {
    form.error = std::move(message);
    return form;
  };
  bool has_users = false, has_rate = false;
  for (const auto& [name, value] : fields) {
    if (name == "user_count") {
      const auto number = common::parse_number(value);
      if (!number || *number < 0 || *number != std::floor(*number) || *number > 10'000'000)
        return fail("user_count must be a whole number >= 0, got '" + value + "'");
      form.load.users = static_cast<int>(*number);
      has_users = true;
    } else if (name == "spawn_rate") {
      const auto number = common::parse_number(value);
      if (!number || !(*number > 0)) return fail("spawn_rate must be a number > 0, got '" + value + "'");
      form.load.spawn_rate = *number;
      has_rate = true;
    } else if (name == "host") {
      if (!value.empty()) form.load.host = value;
    } else if (name == "run_time") {
      if (value.empty()) continue;
      const auto seconds = common::parse_duration(value);
      if (!seconds) return fail("run_time must be a duration like 20s, 3m or 1h20m, got '" + value + "'");
      form.load.run_time_s = *seconds;
    } else if (name == "user_classes") {
      if (!value.empty()) form.load.user_classes.push_back(value);
    } else if (name == "tags") {
      // As -T takes them: repeatable, or several in one value separated by commas or spaces.
      std::string tag;
      for (char c : value + ",") {
        if (c == ',' || c == ' ') {
          if (!tag.empty()) {
            if (!form.load.tags) form.load.tags.emplace();
            form.load.tags->push_back(std::move(tag));
          }
          tag.clear();
        } else {
          tag += c;
        }
      }
    }
    // Other fields (Locust's shape_class, custom arguments) are not cicada's: ignored, as
    // Locust ignores fields that match none of its options.
  }
  if (!has_users) return fail("user_count is required");
  if (!has_rate) return fail("spawn_rate is required");
  return form;
}

}  // namespace cicada::web
