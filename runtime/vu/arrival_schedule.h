#pragma once
// The open model's timetable (docs/load-models.md): when each task iteration is due, given an
// arrival rate that is constant (--arrival-rate) or changes linearly from stage to stage
// (cicada.stages with rate=), as k6's ramping-arrival-rate does.
//
// With Λ(t) the number of arrivals the rate asks for in [0, t) (the integral of the rate), the
// n-th iteration (counting from 0) is due at the t where Λ(t) = n: the first at once, then one
// every 1/rate. The times are absolute, computed from n, never by adding intervals, so that
// rounding cannot drift over a long run. Worker thread w of T takes the iterations n ≡ w
// (mod T): together the threads start exactly the iterations the schedule asks for.
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

namespace cicada::vu {

struct RateSegment {
  double duration_s = std::numeric_limits<double>::infinity();  // the last one may last forever
  double start_rate = 0;  // iterations per second at the segment's start
  double end_rate = 0;    // ... and at its end (the same for a constant rate)
};

class ArrivalSchedule {
 public:
  ArrivalSchedule() = default;
  // No iteration is due at or after `end_s` (infinity: none but the segments' own end).
  ArrivalSchedule(std::vector<RateSegment> segments, double end_s);

  // Λ(t): how many arrivals the rate asks for before `t` seconds, as a real number.
  double expected_arrivals(double t_s) const;
  // How many iterations are due before `t` (the n with time_of(n) < t, all of them when t is
  // past the end).
  std::uint64_t due_before(double t_s) const;
  // When iteration n is due, in seconds since the start; nullopt when it never is (past the
  // end, or the rate stays at 0). `segment_hint` (optional) remembers where the search ended,
  // for callers that ask for increasing n.
  std::optional<double> time_of(std::uint64_t n, std::size_t* segment_hint = nullptr) const;

  double end_s() const { return end_s_; }
  // The highest rate anywhere in the schedule.
  double peak_rate() const;
  // The time the last segment ends (infinity when it lasts forever), bounded by end_s.
  double length_s() const;
  bool empty() const { return segments_.empty(); }

 private:
  std::vector<RateSegment> segments_;
  std::vector<double> start_s_;        // when each segment starts
  std::vector<double> arrivals_at_start_;  // Λ at each segment's start
  double end_s_ = std::numeric_limits<double>::infinity();
};

// The iterations one worker thread starts: n = thread, thread + threads, ... below `limit`.
class ThreadArrivals {
 public:
  ThreadArrivals() = default;
  ThreadArrivals(ArrivalSchedule schedule, int thread, int threads, std::int64_t limit);

  // When this thread's next iteration is due (seconds since the start), or nullopt when it has
  // none left. advance() moves to the one after.
  std::optional<double> next() const { return next_s_; }
  void advance();
  // How many iterations this thread will start in all (ignoring the schedule's end).
  static std::int64_t share_of(std::int64_t limit, int thread, int threads);

 private:
  void seek();

  ArrivalSchedule schedule_;
  std::uint64_t n_ = 0;
  std::uint64_t step_ = 1;
  std::int64_t limit_ = -1;  // -1: no --iterations
  std::size_t hint_ = 0;
  std::optional<double> next_s_;
};

}  // namespace cicada::vu
