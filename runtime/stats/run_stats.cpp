#include "runtime/stats/run_stats.h"

namespace cicada::stats {

namespace {

enum class Count { requests, failures };

double average_closed(const std::deque<std::pair<std::uint64_t, std::uint64_t>>& closed, Count what) {
  if (closed.empty()) return 0.0;
  std::uint64_t sum = 0;
  for (const auto& [requests, failures] : closed) sum += what == Count::requests ? requests : failures;
  return static_cast<double>(sum) / static_cast<double>(closed.size());
}

}  // namespace

RunStats::Rates& RunStats::rates_for(const EntryKey* key) {
  if (key == nullptr) return total_rates_;
  auto [it, inserted] = entry_rates_.try_emplace(*key);
  if (inserted) {
    // An entry first seen mid-run had zero requests in the seconds already closed; without this
    // padding its first busy second alone would stand for its "current" rate.
    it->second.closed.assign(total_rates_.closed.size(), {0, 0});
  }
  return it->second;
}

const RunStats::Rates* RunStats::find_rates(const EntryKey* key) const {
  if (key == nullptr) return &total_rates_;
  const auto it = entry_rates_.find(*key);
  return it == entry_rates_.end() ? nullptr : &it->second;
}

void RunStats::merge_delta(const StatsBook& delta) {
  book_.merge(delta);
  delta.for_each_entry([this](const EntryKey& key, const EntryStats& entry) {
    Rates& rates = rates_for(&key);
    rates.pending_requests += entry.num_requests;
    rates.pending_failures += entry.num_failures;
  });
  total_rates_.pending_requests += delta.total().num_requests;
  total_rates_.pending_failures += delta.total().num_failures;
  iteration_rates_.pending_requests += delta.iterations_started();
  iteration_rates_.pending_failures += delta.iterations_dropped();
}

void RunStats::close_second() {
  auto close = [](Rates& rates) {
    rates.closed.emplace_back(rates.pending_requests, rates.pending_failures);
    rates.pending_requests = 0;
    rates.pending_failures = 0;
    while (rates.closed.size() > static_cast<std::size_t>(kCurrentWindowSeconds)) rates.closed.pop_front();
  };
  for (auto& [key, rates] : entry_rates_) close(rates);
  close(total_rates_);
  close(iteration_rates_);
}

void RunStats::reset(double now_s) {
  StatsBook exceptions;
  exceptions.merge_exceptions(book_);
  book_ = std::move(exceptions);
  entry_rates_.clear();
  total_rates_ = Rates{};
  iteration_rates_ = Rates{};
  start_s_ = now_s;
  last_s_ = now_s;
}

double RunStats::current_rps(const EntryKey* key) const {
  const Rates* rates = find_rates(key);
  return rates ? average_closed(rates->closed, Count::requests) : 0.0;
}

double RunStats::current_fail_per_sec(const EntryKey* key) const {
  const Rates* rates = find_rates(key);
  return rates ? average_closed(rates->closed, Count::failures) : 0.0;
}

double RunStats::current_iterations_per_sec() const { return average_closed(iteration_rates_.closed, Count::requests); }

double RunStats::current_dropped_per_sec() const { return average_closed(iteration_rates_.closed, Count::failures); }

double RunStats::total_rps(const EntryStats& e) const {
  const double seconds = duration_s();
  return seconds > 0.0 ? static_cast<double>(e.num_requests) / seconds : 0.0;
}

double RunStats::total_fail_per_sec(const EntryStats& e) const {
  const double seconds = duration_s();
  return seconds > 0.0 ? static_cast<double>(e.num_failures) / seconds : 0.0;
}

}  // namespace cicada::stats
