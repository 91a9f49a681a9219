#include "runtime/stats/stats_book.h"

#include <algorithm>
#include <utility>

namespace cicada::stats {

namespace {

constexpr double kMicrosPerMilli = 1000.0;
constexpr char kKeySeparator = '\x1f';  // ASCII unit separator: never part of a method or a name

void join_key(std::string& out, std::string_view method, std::string_view name) {
  out.assign(method);  // keeps the capacity, so no allocation once warmed up
  out.push_back(kKeySeparator);
  out.append(name);
}

double us_to_ms(std::uint64_t us) { return static_cast<double>(us) / kMicrosPerMilli; }

}  // namespace

double clamped_percentile_ms(const Histogram& histogram, std::uint64_t min_us, std::uint64_t max_us, double p) {
  if (histogram.count() == 0) return 0.0;
  const std::uint64_t low = min_us == UINT64_MAX ? 0 : min_us;
  const std::uint64_t high = std::max(low, max_us);
  // The extremes are known exactly, so don't report a bucket midpoint for them.
  if (p <= 0.0) return us_to_ms(low);
  if (p >= 1.0) return us_to_ms(high);
  // A bucket midpoint can lie outside the samples actually seen (one slow request alone in a
  // wide bucket); clamping keeps e.g. the median from exceeding the max, as Locust does.
  return us_to_ms(std::clamp(histogram.value_at_percentile(p), low, high));
}

// ---- ServiceTimes ----

void ServiceTimes::record(std::uint64_t service_us) {
  ++count;
  total_us += service_us;
  min_us = std::min(min_us, service_us);
  max_us = std::max(max_us, service_us);
  histogram.record(service_us);
}

void ServiceTimes::merge(const ServiceTimes& other) {
  if (other.count == 0) return;
  count += other.count;
  total_us += other.total_us;
  min_us = std::min(min_us, other.min_us);
  max_us = std::max(max_us, other.max_us);
  histogram.merge(other.histogram);
}

double ServiceTimes::avg_ms() const {
  return count == 0 ? 0.0 : static_cast<double>(total_us) / static_cast<double>(count) / kMicrosPerMilli;
}

double ServiceTimes::min_ms() const { return min_us == UINT64_MAX ? 0.0 : us_to_ms(min_us); }

double ServiceTimes::max_ms() const { return us_to_ms(max_us); }

// ---- EntryStats ----

void EntryStats::record(std::uint64_t response_us, std::uint64_t content_length, bool failed,
                        std::optional<std::uint64_t> service_us) {
  if (service_us) service.record(*service_us);
  ++num_requests;
  if (failed) ++num_failures;
  total_response_us += response_us;
  min_response_us = std::min(min_response_us, response_us);
  max_response_us = std::max(max_response_us, response_us);
  total_content_length += content_length;
  histogram.record(response_us);
}

void EntryStats::merge(const EntryStats& other) {
  num_requests += other.num_requests;
  num_failures += other.num_failures;
  total_response_us += other.total_response_us;
  min_response_us = std::min(min_response_us, other.min_response_us);
  max_response_us = std::max(max_response_us, other.max_response_us);
  total_content_length += other.total_content_length;
  histogram.merge(other.histogram);
  service.merge(other.service);
}

double EntryStats::avg_ms() const {
  if (num_requests == 0) return 0.0;
  return static_cast<double>(total_response_us) / static_cast<double>(num_requests) / kMicrosPerMilli;
}

double EntryStats::min_ms() const {
  if (min_response_us == UINT64_MAX) return 0.0;
  return static_cast<double>(min_response_us) / kMicrosPerMilli;
}

double EntryStats::max_ms() const { return static_cast<double>(max_response_us) / kMicrosPerMilli; }

double EntryStats::median_ms() const { return percentile_ms(0.5); }

double EntryStats::percentile_ms(double p) const {
  return clamped_percentile_ms(histogram, min_response_us, max_response_us, p);
}

double EntryStats::avg_content_length() const {
  if (num_requests == 0) return 0.0;
  return static_cast<double>(total_content_length) / static_cast<double>(num_requests);
}

double EntryStats::fail_ratio() const {
  if (num_requests == 0) return num_failures > 0 ? 1.0 : 0.0;  // Locust's convention
  return static_cast<double>(num_failures) / static_cast<double>(num_requests);
}

// ---- StatsBook ----

StatsBook::StatsBook(StatsBook&& other) noexcept
    : entries_(std::move(other.entries_)),
      total_(std::move(other.total_)),
      failures_(std::move(other.failures_)),
      exceptions_(std::move(other.exceptions_)),
      in_flight_at_stop_(std::move(other.in_flight_at_stop_)),
      iterations_started_(other.iterations_started_),
      iterations_dropped_(other.iterations_dropped_) {
  other.clear();
}

StatsBook& StatsBook::operator=(StatsBook&& other) noexcept {
  if (this != &other) {
    last_.entry = nullptr;
    entries_ = std::move(other.entries_);
    total_ = std::move(other.total_);
    failures_ = std::move(other.failures_);
    exceptions_ = std::move(other.exceptions_);
    in_flight_at_stop_ = std::move(other.in_flight_at_stop_);
    iterations_started_ = other.iterations_started_;
    iterations_dropped_ = other.iterations_dropped_;
    other.clear();
  }
  return *this;
}

void StatsBook::record_request(std::string_view method, std::string_view name, std::uint64_t response_us,
                               std::uint64_t content_length, std::string_view error,
                               std::optional<std::uint64_t> service_us) {
  Entry* entry = last_.entry;
  if (!entry || entry->key.name != name || entry->key.method != method) {
    join_key(scratch_key_, method, name);
    auto it = entries_.find(scratch_key_);
    if (it == entries_.end()) {
      Entry fresh{EntryKey{std::string(method), std::string(name)}, EntryStats{}};
      it = entries_.emplace(scratch_key_, std::move(fresh)).first;
    }
    entry = &it->second;  // nodes of an unordered_map stay put when it grows
    last_.entry = entry;
  }
  const bool failed = !error.empty();
  entry->stats.record(response_us, content_length, failed, service_us);
  total_.record(response_us, content_length, failed, service_us);
  if (!failed) return;

  scratch_failure_key_.method.assign(method);
  scratch_failure_key_.name.assign(name);
  scratch_failure_key_.error.assign(error);
  auto failure = failures_.find(scratch_failure_key_);
  if (failure == failures_.end()) failure = failures_.emplace(scratch_failure_key_, 0).first;
  ++failure->second;
}

void StatsBook::record_exception(std::string_view message, std::string_view traceback, std::uint64_t count) {
  std::string key;
  key.reserve(message.size() + 1 + traceback.size());
  key.append(message).push_back('\n');
  key.append(traceback);
  auto it = exceptions_.find(key);
  if (it == exceptions_.end())
    it = exceptions_.emplace(std::move(key), ExceptionRecord{std::string(message), std::string(traceback), 0}).first;
  it->second.count += count;
}

void StatsBook::record_in_flight_at_stop(std::string_view method, std::string_view name, std::uint64_t age_us) {
  InFlightAtStop& in_flight = in_flight_at_stop_[EntryKey{std::string(method), std::string(name)}];
  ++in_flight.count;
  in_flight.oldest_us = std::max(in_flight.oldest_us, age_us);
}

void StatsBook::merge_entry(std::string_view method, std::string_view name, const EntryStats& counts,
                            const std::vector<std::pair<std::uint64_t, std::uint64_t>>& buckets) {
  std::string key;
  join_key(key, method, name);
  auto it = entries_.find(key);
  if (it == entries_.end())
    it = entries_.emplace(std::move(key), Entry{EntryKey{std::string(method), std::string(name)}, EntryStats{}}).first;
  for (EntryStats* target : {&it->second.stats, &total_}) {
    target->num_requests += counts.num_requests;
    target->num_failures += counts.num_failures;
    target->total_response_us += counts.total_response_us;
    target->min_response_us = std::min(target->min_response_us, counts.min_response_us);
    target->max_response_us = std::max(target->max_response_us, counts.max_response_us);
    target->total_content_length += counts.total_content_length;
    for (const auto& [value_us, count] : buckets) target->histogram.record(value_us, count);
  }
}

void StatsBook::add_failures(std::string_view method, std::string_view name, std::string_view error,
                             std::uint64_t count) {
  failures_[FailureKey{std::string(method), std::string(name), std::string(error)}] += count;
}

void StatsBook::add_in_flight_at_stop(std::string_view method, std::string_view name, const InFlightAtStop& in_flight) {
  InFlightAtStop& mine = in_flight_at_stop_[EntryKey{std::string(method), std::string(name)}];
  mine.count += in_flight.count;
  mine.oldest_us = std::max(mine.oldest_us, in_flight.oldest_us);
}

void StatsBook::merge(const StatsBook& other) {
  if (this == &other) {
    StatsBook copy(other);
    merge(copy);
    return;
  }
  for (const auto& [joined_key, entry] : other.entries_) {
    auto it = entries_.find(joined_key);
    if (it == entries_.end())
      entries_.emplace(joined_key, entry);
    else
      it->second.stats.merge(entry.stats);
  }
  total_.merge(other.total_);
  for (const auto& [key, occurrences] : other.failures_) failures_[key] += occurrences;
  for (const auto& [key, in_flight] : other.in_flight_at_stop_) {
    InFlightAtStop& mine = in_flight_at_stop_[key];
    mine.count += in_flight.count;
    mine.oldest_us = std::max(mine.oldest_us, in_flight.oldest_us);
  }
  iterations_started_ += other.iterations_started_;
  iterations_dropped_ += other.iterations_dropped_;
  merge_exceptions(other);
}

void StatsBook::merge_exceptions(const StatsBook& other) {
  for (const auto& [key, record] : other.exceptions_) {
    auto it = exceptions_.find(key);
    if (it == exceptions_.end())
      exceptions_.emplace(key, record);
    else
      it->second.count += record.count;
  }
}

void StatsBook::clear() {
  last_.entry = nullptr;
  entries_.clear();
  total_ = EntryStats{};
  failures_.clear();
  exceptions_.clear();
  in_flight_at_stop_.clear();
  iterations_started_ = 0;
  iterations_dropped_ = 0;
}

bool StatsBook::empty() const {
  return entries_.empty() && total_.empty() && failures_.empty() && exceptions_.empty() && in_flight_at_stop_.empty() &&
         iterations_started_ == 0 &&
         iterations_dropped_ == 0;
}

std::vector<std::pair<EntryKey, const EntryStats*>> StatsBook::sorted_entries() const {
  std::vector<std::pair<EntryKey, const EntryStats*>> sorted;
  sorted.reserve(entries_.size());
  for (const auto& slot : entries_) sorted.emplace_back(slot.second.key, &slot.second.stats);
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first.name, a.first.method) < std::tie(b.first.name, b.first.method);
  });
  return sorted;
}

const EntryStats* StatsBook::find(std::string_view method, std::string_view name) const {
  std::string key;
  join_key(key, method, name);
  const auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second.stats;
}

}  // namespace cicada::stats
