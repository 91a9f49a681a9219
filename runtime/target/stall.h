#pragma once
// `cicada target --stall 1s/10s`: the whole server stops answering for 1 s of every 10 s, the
// way a process paused by a stop-the-world collection (or by ^Z) does. This is the server of
// wrk2's demonstration of coordinated omission, and of cicada's own test of it
// (docs/load-models.md): requests that arrive during a stall are held, and answered when it
// ends; nothing else changes.
//
// The schedule starts with the first request the target receives (from any thread), so a load
// test started at any moment meets its first stall `start` after its first request:
// stalls cover [start + k·period, start + k·period + duration) for k = 0, 1, 2, ...
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cicada::target {

struct StallSchedule {
  uint64_t duration_ns = 0;
  uint64_t period_ns = 0;
  uint64_t start_ns = 0;  // the first stall, after the first request

  bool enabled() const { return period_ns > 0 && duration_ns > 0; }
  // When the stall covering `since_first_request_ns` ends (as time since the first request),
  // or nullopt when the target is not stalled then.
  std::optional<uint64_t> stall_end(uint64_t since_first_request_ns) const;
};

// "1s/10s" (DURATION/PERIOD, with ms, s or m units, or plain seconds); the duration must be
// shorter than the period. nullopt with `error` set otherwise.
std::optional<StallSchedule> parse_stall(std::string_view text, std::string& error);

// The schedule and its time 0, shared by every thread of one target.
class StallClock {
 public:
  explicit StallClock(StallSchedule schedule) : schedule_(schedule) {}
  // Called for every complete request at `now_ns` (uv_hrtime): when the answer may go, on the
  // same clock, or nullopt when it may go now. The first call starts the schedule.
  std::optional<uint64_t> hold_until(uint64_t now_ns);

 private:
  StallSchedule schedule_;
  std::atomic<uint64_t> first_request_ns_{0};
};

}  // namespace cicada::target
