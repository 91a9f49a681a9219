#include "runtime/target/stall.h"

#include <cmath>

#include "runtime/common/parse.h"

namespace cicada::target {

std::optional<uint64_t> StallSchedule::stall_end(uint64_t since_first_request_ns) const {
  if (!enabled() || since_first_request_ns < start_ns) return std::nullopt;
  const uint64_t into_period = (since_first_request_ns - start_ns) % period_ns;
  if (into_period >= duration_ns) return std::nullopt;
  return since_first_request_ns + (duration_ns - into_period);
}

std::optional<StallSchedule> parse_stall(std::string_view text, std::string& error) {
  const size_t slash = text.find('/');
  auto to_ns = [](std::optional<double> seconds) -> uint64_t {
    return seconds && *seconds > 0 ? static_cast<uint64_t>(std::llround(*seconds * 1e9)) : 0;
  };
  StallSchedule schedule;
  if (slash != std::string_view::npos) {
    schedule.duration_ns = to_ns(common::parse_duration(text.substr(0, slash)));
    schedule.period_ns = to_ns(common::parse_duration(text.substr(slash + 1)));
  }
  if (!schedule.enabled()) {
    error = "--stall wants DURATION/PERIOD like 1s/10s, not";
    return std::nullopt;
  }
  if (schedule.duration_ns >= schedule.period_ns) {
    error = "--stall must stall for less than its period, not";
    return std::nullopt;
  }
  // By default each period ends with its stall: 1s/10s stalls 9 s after the first request.
  schedule.start_ns = schedule.period_ns - schedule.duration_ns;
  return schedule;
}

std::optional<uint64_t> StallClock::hold_until(uint64_t now_ns) {
  if (!schedule_.enabled()) return std::nullopt;
  uint64_t first = first_request_ns_.load(std::memory_order_relaxed);
  if (first == 0) {
    // The first request of any thread starts the schedule; a thread that loses the race uses
    // the winner's time.
    uint64_t expected = 0;
    first = first_request_ns_.compare_exchange_strong(expected, now_ns, std::memory_order_relaxed) ? now_ns : expected;
  }
  const uint64_t since = now_ns > first ? now_ns - first : 0;
  const std::optional<uint64_t> end = schedule_.stall_end(since);
  if (!end) return std::nullopt;
  return first + *end;
}

}  // namespace cicada::target
