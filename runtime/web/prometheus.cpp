#include "runtime/web/prometheus.h"

#include <array>
#include <charconv>
#include <cinttypes>
#include <cstdio>

namespace cicada::web {

namespace {

// The response-time buckets, in seconds: Prometheus' defaults, widened both ways for load tests
// (sub-millisecond loopback answers, minute-long timeouts).
constexpr std::array<double, 19> kBucketBoundsS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                    1,      2.5,   5,      10,    15,   30,    60,   120, 300};

// The shortest text that reads back as the same double (0.0025, not 0.0025000000000000001).
void append_number(std::string& out, double value) {
  char text[40];
  const auto result = std::to_chars(text, text + sizeof text, value);
  out.append(text, result.ptr);
}

void append_count(std::string& out, std::uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "%" PRIu64, value);
  out += text;
}

// A label value: backslash, double quote and line feed escaped.
void append_label_value(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void append_family(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void append_entry_labels(std::string& out, const stats::EntryKey& key) {
  out += "method=\"";
  append_label_value(out, key.method);
  out += "\",name=\"";
  append_label_value(out, key.name);
  out += '"';
}

// The samples of one entry's histogram. A bucket of cicada's histogram (at most 0.2% wide)
// counts under `le` when its largest value is within it, so a bound is exact to that width.
void append_histogram(std::string& out, const stats::EntryKey& key, const stats::EntryStats& entry) {
  std::array<std::uint64_t, kBucketBoundsS.size()> cumulative{};
  entry.histogram.for_each_bucket([&cumulative](std::size_t index, std::uint64_t count) {
    const double high_s = static_cast<double>(stats::Histogram::bucket_high(index)) / 1e6;
    for (std::size_t b = 0; b < kBucketBoundsS.size(); ++b)
      if (high_s <= kBucketBoundsS[b]) cumulative[b] += count;
  });
  for (std::size_t b = 0; b <= kBucketBoundsS.size(); ++b) {
    out += "cicada_request_duration_seconds_bucket{";
    append_entry_labels(out, key);
    out += ",le=\"";
    if (b < kBucketBoundsS.size()) {
      append_number(out, kBucketBoundsS[b]);
    } else {
      out += "+Inf";
    }
    out += "\"} ";
    append_count(out, b < kBucketBoundsS.size() ? cumulative[b] : entry.histogram.count());
    out += '\n';
  }
  out += "cicada_request_duration_seconds_sum{";
  append_entry_labels(out, key);
  out += "} ";
  append_number(out, static_cast<double>(entry.total_response_us) / 1e6);
  out += "\ncicada_request_duration_seconds_count{";
  append_entry_labels(out, key);
  out += "} ";
  append_count(out, entry.histogram.count());
  out += '\n';
}

void append_gauge(std::string& out, const char* name, const char* help, double value) {
  append_family(out, name, "gauge", help);
  out += name;
  out += ' ';
  append_number(out, value);
  out += '\n';
}

void append_counter(std::string& out, const char* name, const char* help, std::uint64_t value) {
  append_family(out, name, "counter", help);
  out += name;
  out += ' ';
  append_count(out, value);
  out += '\n';
}

}  // namespace

std::string prometheus_metrics(const control::RunSnapshot& run) {
  const stats::StatsBook& book = run.stats->book();
  const auto entries = book.sorted_entries();
  std::string out;

  const auto per_entry_counter = [&](const char* name, const char* help, auto value_of) {
    append_family(out, name, "counter", help);
    for (const auto& [key, entry] : entries) {
      out += name;
      out += '{';
      append_entry_labels(out, key);
      out += "} ";
      append_count(out, value_of(*entry));
      out += '\n';
    }
  };
  per_entry_counter("cicada_requests_total", "Requests completed (failed ones included), per method and name.",
                    [](const stats::EntryStats& e) { return e.num_requests; });
  per_entry_counter("cicada_request_failures_total", "Requests that failed, per method and name.",
                    [](const stats::EntryStats& e) { return e.num_failures; });
  append_family(out, "cicada_request_duration_seconds", "histogram",
                "Response times, per method and name, from cicada's microsecond histograms.");
  for (const auto& [key, entry] : entries) append_histogram(out, key, *entry);
  per_entry_counter("cicada_response_bytes_total", "Response body bytes received, per method and name.",
                    [](const stats::EntryStats& e) { return e.total_content_length; });

  append_gauge(out, "cicada_users", "Users running now.", run.running_users);
  append_gauge(out, "cicada_target_users", "Users the load is moving towards (the open model: its pool).",
               run.target_users);
  append_counter(out, "cicada_iterations_started_total", "Open model: task iterations started.",
                 book.iterations_started());
  append_counter(out, "cicada_iterations_dropped_total",
                 "Open model: task iterations dropped (no free user within --max-queue-time).", book.iterations_dropped());
  std::uint64_t exceptions = 0;
  for (const auto& [key, record] : book.exceptions()) exceptions += record.count;
  append_counter(out, "cicada_exceptions_total", "Errors raised in tasks and hooks.", exceptions);

  append_family(out, "cicada_run_state", "gauge", "The run's phase: 1 for the current one, 0 for the others.");
  for (control::RunPhase phase : {control::RunPhase::Ready, control::RunPhase::Spawning, control::RunPhase::Running,
                                  control::RunPhase::Stopping, control::RunPhase::Stopped}) {
    out += "cicada_run_state{state=\"";
    out += control::phase_name(phase);
    out += "\"} ";
    out += phase == run.phase ? '1' : '0';
    out += '\n';
  }
  return out;
}

}  // namespace cicada::web
