#pragma once
// Request statistics as recorded by one worker thread (and, merged, by the coordinator).
//
// A worker records into its own StatsBook with no locks; once a second the coordinator takes
// the book (the worker starts a fresh one) and merges it into the run's totals. Entries are
// keyed by (method, name) like Locust's; failures by (method, name, error); exceptions by
// (message, traceback).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "runtime/stats/histogram.h"

namespace cicada::stats {

// The value at percentile p of a histogram whose smallest and largest samples are known exactly:
// p <= 0 is exactly `min_us`, p >= 1 exactly `max_us`, and anything else is clamped to them.
// In milliseconds, 0 when the histogram is empty.
double clamped_percentile_ms(const Histogram& histogram, std::uint64_t min_us, std::uint64_t max_us, double p);

// Service times in the open model (docs/load-models.md): the time from a request's start to its
// last byte, without the time its iteration waited to start. The response time an EntryStats
// reports is then measured from the iteration's scheduled start (corrected for coordinated
// omission); this keeps the uncorrected one beside it. Empty in the closed model.
struct ServiceTimes {
  std::uint64_t count = 0;
  std::uint64_t total_us = 0;
  std::uint64_t min_us = UINT64_MAX;  // UINT64_MAX while empty
  std::uint64_t max_us = 0;
  Histogram histogram;

  void record(std::uint64_t service_us);
  void merge(const ServiceTimes& other);
  double avg_ms() const;
  double min_ms() const;
  double max_ms() const;
  double percentile_ms(double p) const { return clamped_percentile_ms(histogram, min_us, max_us, p); }
};

struct EntryStats {
  std::uint64_t num_requests = 0;
  std::uint64_t num_failures = 0;
  std::uint64_t total_response_us = 0;
  std::uint64_t min_response_us = UINT64_MAX;  // UINT64_MAX while empty
  std::uint64_t max_response_us = 0;
  std::uint64_t total_content_length = 0;
  Histogram histogram;
  ServiceTimes service;  // open model only

  // `service_us`: the uncorrected service time, given in the open model only.
  void record(std::uint64_t response_us, std::uint64_t content_length, bool failed,
              std::optional<std::uint64_t> service_us = std::nullopt);
  void merge(const EntryStats& other);
  bool empty() const { return num_requests == 0 && num_failures == 0; }

  // Derived values in milliseconds (0 when empty), as Locust reports them.
  double avg_ms() const;
  double min_ms() const;
  double max_ms() const;
  double median_ms() const;
  // Clamped to [min, max]; p <= 0 is exactly min and p >= 1 exactly max.
  double percentile_ms(double p) const;
  double avg_content_length() const;
  double fail_ratio() const;
};

struct EntryKey {
  std::string method;
  std::string name;
  auto operator<=>(const EntryKey&) const = default;
};

struct FailureKey {
  std::string method;
  std::string name;
  std::string error;
  auto operator<=>(const FailureKey&) const = default;
};

// Requests still waiting for their answer when their user was stopped (the end of the run, a
// ramp-down): they have no response time, so they are counted apart. A hung server shows here.
struct InFlightAtStop {
  std::uint64_t count = 0;
  std::uint64_t oldest_us = 0;  // the longest any of them had been waiting
};

struct ExceptionRecord {
  std::string message;
  std::string traceback;
  std::uint64_t count = 0;
};

class StatsBook {
 public:
  StatsBook() = default;
  StatsBook(const StatsBook&) = default;
  StatsBook& operator=(const StatsBook&) = default;
  // A moved-from book is empty, so a worker can hand its book over with std::move and keep
  // recording into it without counting anything twice.
  StatsBook(StatsBook&& other) noexcept;
  StatsBook& operator=(StatsBook&& other) noexcept;

  // Hot path: called once per completed request. `error` empty means success. In the open
  // model `response_us` is measured from the iteration's scheduled start and `service_us` is
  // the uncorrected time; in the closed model there is no `service_us`.
  void record_request(std::string_view method, std::string_view name, std::uint64_t response_us,
                      std::uint64_t content_length, std::string_view error,
                      std::optional<std::uint64_t> service_us = std::nullopt);
  // Open model: an iteration started (on time or late), or iterations dropped because no
  // user was free within --max-queue-time.
  void count_iteration_started() { ++iterations_started_; }
  void count_iterations_dropped(std::uint64_t count) { iterations_dropped_ += count; }
  // An error raised inside a task (or hook) of a virtual user.
  void record_exception(std::string_view message, std::string_view traceback, std::uint64_t count = 1);
  // A request abandoned in flight because its user stopped, after waiting `age_us`.
  void record_in_flight_at_stop(std::string_view method, std::string_view name, std::uint64_t age_us);

  // What another process recorded (a distributed worker's report): `counts` (whose histogram
  // is left aside) and each (µs, count) of `buckets` are added to the entry (method, name) and
  // to the total; failures by their error.
  void merge_entry(std::string_view method, std::string_view name, const EntryStats& counts,
                   const std::vector<std::pair<std::uint64_t, std::uint64_t>>& buckets);
  void add_failures(std::string_view method, std::string_view name, std::string_view error, std::uint64_t count);
  void add_in_flight_at_stop(std::string_view method, std::string_view name, const InFlightAtStop& in_flight);

  void merge(const StatsBook& other);
  // Only the exceptions of `other` (the coordinator's own book: its requests are not counted).
  void merge_exceptions(const StatsBook& other);
  void clear();
  bool empty() const;

  // Read access. Entries sorted by (name, method) as Locust sorts them.
  std::vector<std::pair<EntryKey, const EntryStats*>> sorted_entries() const;
  const EntryStats& total() const { return total_; }
  std::uint64_t iterations_started() const { return iterations_started_; }
  std::uint64_t iterations_dropped() const { return iterations_dropped_; }
  const std::map<FailureKey, std::uint64_t>& failures() const { return failures_; }
  // Exceptions keyed by message + "\n" + traceback.
  const std::map<std::string, ExceptionRecord>& exceptions() const { return exceptions_; }
  const std::map<EntryKey, InFlightAtStop>& in_flight_at_stop() const { return in_flight_at_stop_; }
  const EntryStats* find(std::string_view method, std::string_view name) const;
  // Calls fn(const EntryKey&, const EntryStats&) for every entry, in no particular order
  // (cheaper than sorted_entries when order does not matter, e.g. when merging).
  template <class Fn>
  void for_each_entry(Fn&& fn) const {
    for (const auto& slot : entries_) fn(slot.second.key, slot.second.stats);
  }

 private:
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  struct Entry {
    EntryKey key;
    EntryStats stats;
  };
  // Key is method + '\x1f' + name, so one lookup on the hot path.
  std::unordered_map<std::string, Entry, StringHash, std::equal_to<>> entries_;
  EntryStats total_;
  std::map<FailureKey, std::uint64_t> failures_;
  std::map<std::string, ExceptionRecord> exceptions_;
  std::map<EntryKey, InFlightAtStop> in_flight_at_stop_;
  std::uint64_t iterations_started_ = 0;
  std::uint64_t iterations_dropped_ = 0;
  // The entry of the last request, compared before any hashing: a user's requests mostly
  // repeat. It points into this book's own map, so a copied or moved book starts without it.
  struct LastEntry {
    Entry* entry = nullptr;
    LastEntry() = default;
    LastEntry(const LastEntry&) {}
    LastEntry& operator=(const LastEntry&) {
      entry = nullptr;
      return *this;
    }
  };
  LastEntry last_;
  std::string scratch_key_;
  FailureKey scratch_failure_key_;  // reused so a repeated failure allocates nothing
};

}  // namespace cicada::stats
