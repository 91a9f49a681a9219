#include "runtime/report/json_report.h"

#include <charconv>
#include <cmath>
#include <optional>
#include <vector>

#include "runtime/common/json.h"
#include "runtime/report/percentiles.h"
#include "runtime/report/report_rows.h"

namespace cicada::report {

namespace {

using JsonWriter = common::json::Writer;

// A count (never written as 1e+05), or null.
void optional_count(JsonWriter& json, std::string_view name, const std::optional<std::uint64_t>& value) {
  json.key(name);
  if (value) {
    json.integer(*value);
  } else {
    json.null();
  }
}

void optional_field(JsonWriter& json, std::string_view name, const std::optional<double>& value) {
  json.key(name);
  if (value) {
    json.number(*value);
  } else {
    json.null();
  }
}

// "p50", "p99.9": the names thresholds use too.
std::string percentile_key(const char* label) {
  std::string key = "p";
  for (const char* c = label; *c && *c != '%'; ++c) key += *c;
  return key;
}

void write_histogram(JsonWriter& json, const stats::Histogram& histogram) {
  json.begin_object();
  json.field("unit", "us");
  json.key("buckets");  // [lowest, highest, count]: every value in the bucket lies in [lowest, highest]
  json.begin_array();
  histogram.for_each_bucket([&](std::size_t index, std::uint64_t count) {
    json.begin_array();
    json.integer(stats::Histogram::bucket_low(index));
    json.integer(stats::Histogram::bucket_high(index));
    json.integer(count);
    json.end_array();
  });
  json.end_array();
  json.end_object();
}

template <class Times>
void write_percentiles(JsonWriter& json, const Times& times) {
  json.key("percentiles_ms");
  json.begin_object();
  for (std::size_t i = 0; i < kReportedPercentiles.size(); ++i)
    json.field(percentile_key(kPercentileLabels[i]), times.percentile_ms(kReportedPercentiles[i]));
  json.end_object();
}

// Open model: the uncorrected service times beside the corrected response times; null otherwise.
void write_service_time(JsonWriter& json, const stats::ServiceTimes& service, bool open_model) {
  json.key("service_time");
  if (!open_model) {
    json.null();
    return;
  }
  json.begin_object();
  json.field("count", service.count);
  json.field("avg_ms", service.avg_ms());
  json.field("min_ms", service.min_ms());
  json.field("max_ms", service.max_ms());
  json.field("median_ms", service.percentile_ms(0.5));
  write_percentiles(json, service);
  json.field("total_service_time_us", service.total_us);
  json.key("histogram");
  write_histogram(json, service.histogram);
  json.end_object();
}

void write_entry(JsonWriter& json, const stats::RunStats& run, std::string_view method, std::string_view name,
                 const stats::EntryStats& entry, bool open_model) {
  json.begin_object();
  json.field("method", method);
  json.field("name", name);
  json.field("num_requests", entry.num_requests);
  json.field("num_failures", entry.num_failures);
  json.field("fail_ratio", entry.fail_ratio());
  json.field("avg_ms", entry.avg_ms());
  json.field("min_ms", entry.min_ms());
  json.field("max_ms", entry.max_ms());
  json.field("median_ms", entry.median_ms());
  json.field("avg_content_length", entry.avg_content_length());
  json.field("rps", run.total_rps(entry));
  json.field("failures_per_s", run.total_fail_per_sec(entry));
  write_percentiles(json, entry);
  // The raw sums and the histogram are what merging two runs needs.
  json.field("total_response_time_us", entry.total_response_us);
  json.key("min_response_time_us");
  if (entry.num_requests == 0) {
    json.null();
  } else {
    json.integer(entry.min_response_us);
  }
  json.field("max_response_time_us", entry.max_response_us);
  json.field("total_content_length", entry.total_content_length);
  json.key("histogram");
  write_histogram(json, entry.histogram);
  write_service_time(json, entry.service, open_model);
  json.end_object();
}

void write_run(JsonWriter& json, const ReportContent& content) {
  const RunInfo& info = content.info;
  json.key("run");
  json.begin_object();
  json.field("script", info.script);
  json.field("host", info.host);
  json.key("command_line");
  json.begin_array();
  for (const std::string& word : info.command_line) json.string(word);
  json.end_array();
  json.key("user_classes");
  json.begin_array();
  for (const std::string& name : info.user_classes) json.string(name);
  json.end_array();
  json.field("users", info.users);
  json.field("spawn_rate", info.spawn_rate);
  optional_field(json, "run_time_s", info.run_time_s > 0 ? std::optional<double>(info.run_time_s) : std::nullopt);
  optional_field(json, "iterations", info.iterations >= 0 ? std::optional<double>(static_cast<double>(info.iterations))
                                                         : std::nullopt);
  json.field("threads", info.threads);
  json.field("start_time", iso8601_utc(info.start_unix_s));
  json.field("end_time", iso8601_utc(info.end_unix_s));
  json.field("start_unix_s", info.start_unix_s);
  json.field("end_unix_s", info.end_unix_s);
  json.field("duration_s", info.duration_s);
  json.field("stop_reason", info.stop_reason);
  json.field("exit_code", info.exit_code);
  json.field("model", info.open_model ? "open" : "closed");
  json.key("load_shape");
  if (info.load_shape.empty()) {
    json.null();
  } else {
    json.string(info.load_shape);
  }
  optional_count(json, "iterations_per_user", info.iterations_per_user >= 0
                                                 ? std::optional<std::uint64_t>(info.iterations_per_user)
                                                 : std::nullopt);
  optional_field(json, "arrival_rate", info.open_model ? std::optional<double>(info.arrival_rate) : std::nullopt);
  json.key("rate_stages");
  json.begin_array();
  for (const auto& [duration_s, rate] : info.rate_stages) {
    json.begin_object();
    json.field("duration_s", duration_s);
    json.field("rate", rate);
    json.end_object();
  }
  json.end_array();
  optional_count(json, "max_users", info.open_model ? std::optional<std::uint64_t>(info.max_users) : std::nullopt);
  optional_field(json, "max_queue_time_s", info.open_model ? std::optional<double>(info.max_queue_time_s) : std::nullopt);
  json.end_object();
}

void write_iterations(JsonWriter& json, const ReportContent& content) {
  const RunInfo& info = content.info;
  const stats::StatsBook& book = content.run.book();
  auto open_only = [&](double value) { return info.open_model ? std::optional<double>(value) : std::nullopt; };
  json.key("iterations");
  json.begin_object();
  json.field("started", book.iterations_started());
  json.field("dropped", book.iterations_dropped());
  optional_count(json, "due", info.open_model ? std::optional<std::uint64_t>(info.iterations_due) : std::nullopt);
  optional_field(json, "duration_s", open_only(info.arrivals_duration_s));
  optional_field(json, "target_rate", open_only(info.achieved_rate(info.iterations_due)));
  optional_field(json, "achieved_rate", open_only(info.achieved_rate(book.iterations_started())));
  json.end_object();
}

void write_thresholds(JsonWriter& json, const std::vector<ThresholdResult>& results) {
  json.key("thresholds");
  json.begin_array();
  for (const ThresholdResult& result : results) {
    const Threshold& t = result.threshold;
    json.begin_object();
    json.field("threshold", t.text());
    json.field("selector", t.selector.empty() ? std::string("Aggregated") : t.selector);
    json.field("metric", t.metric_name);
    json.field("limit", t.limit);
    json.field("limit_text", t.limit_text);
    json.field("unit", t.unit());
    optional_field(json, "value", result.measurement.has_data ? std::optional<double>(result.measurement.value)
                                                              : std::nullopt);
    json.field("value_text", format_threshold_value(t, result.measurement));
    json.field("passed", result.passed);
    json.field("abort_on_fail", t.abort_on_fail);
    json.field("delay_s", t.delay_s);
    json.field("aborted_test", result.aborted_test);
    json.field("note", result.abort_note);
    json.field("source", t.source);
    json.end_object();
  }
  json.end_array();
}

void write_history(JsonWriter& json, const std::vector<HistoryPoint>& history) {
  json.key("history");
  json.begin_array();
  for (const HistoryPoint& point : history) {
    json.begin_object();
    json.field("time", point.unix_s);
    json.field("users", point.users);
    json.field("rps", point.rps);
    json.field("failures_per_s", point.failures_per_s);
    optional_field(json, "p50_ms", point.p50_ms);
    optional_field(json, "p95_ms", point.p95_ms);
    optional_field(json, "p99_ms", point.p99_ms);
    json.field("requests", point.requests);
    json.field("failures", point.failures);
    json.field("iterations_per_s", point.iterations_per_s);
    json.field("dropped_per_s", point.dropped_per_s);
    optional_field(json, "service_p99_ms", point.service_p99_ms);
    json.end_object();
  }
  json.end_array();
}

}  // namespace

std::string json_report(const ReportContent& content) {
  std::string out;
  JsonWriter json(out);
  const stats::StatsBook& book = content.run.book();
  json.begin_object();
  json.key("cicada");
  json.begin_object();
  json.field("version", CICADA_VERSION);
  json.field("schema", kJsonSchemaVersion);
  json.end_object();
  write_run(json, content);
  json.key("entries");
  json.begin_array();
  const bool open_model = content.info.open_model;
  for (const auto& [key, entry] : book.sorted_entries())
    write_entry(json, content.run, key.method, key.name, *entry, open_model);
  json.end_array();
  json.key("aggregated");
  write_entry(json, content.run, "", "Aggregated", book.total(), open_model);
  write_iterations(json, content);
  json.key("failures");
  json.begin_array();
  for (const auto& [key, occurrences] : failures_by_count(book)) {
    json.begin_object();
    json.field("method", key->method);
    json.field("name", key->name);
    json.field("error", key->error);
    json.field("occurrences", occurrences);
    json.end_object();
  }
  json.end_array();
  json.key("in_flight_at_stop");
  json.begin_array();
  for (const auto& [key, entry] : book.in_flight_at_stop()) {
    json.begin_object();
    json.field("method", key.method);
    json.field("name", key.name);
    json.field("count", entry.count);
    json.field("oldest_ms", static_cast<double>(entry.oldest_us) / 1000.0);
    json.end_object();
  }
  json.end_array();
  json.key("exceptions");
  json.begin_array();
  for (const stats::ExceptionRecord* record : exceptions_by_count(book)) {
    json.begin_object();
    json.field("count", record->count);
    json.field("message", record->message);
    json.field("traceback", record->traceback);
    json.end_object();
  }
  json.end_array();
  write_thresholds(json, content.thresholds);
  json.key("thresholds_passed");
  json.boolean(content.thresholds_passed());
  write_history(json, content.history);
  json.end_object();
  out += '\n';
  return out;
}

}  // namespace cicada::report
