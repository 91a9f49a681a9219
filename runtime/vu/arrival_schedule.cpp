#include "runtime/vu/arrival_schedule.h"

#include <algorithm>
#include <cmath>

namespace cicada::vu {

namespace {

// Arrivals within a segment during its first `tau` seconds: a·τ + b·τ²/2.
double arrivals_within(const RateSegment& segment, double tau) {
  if (tau <= 0) return 0;
  if (std::isinf(segment.duration_s)) return segment.start_rate * tau;
  const double slope = (segment.end_rate - segment.start_rate) / segment.duration_s;
  tau = std::min(tau, segment.duration_s);
  return segment.start_rate * tau + slope * tau * tau / 2;
}

// The τ at which `count` arrivals have happened within the segment: the root of
// b·τ²/2 + a·τ − count = 0, written as 2·count / (a + √(a² + 2·b·count)) so that it stays
// exact when the slope b is 0 or tiny, and when it is negative (a ramp down).
double time_within(const RateSegment& segment, double count) {
  if (count <= 0) return 0;
  const double a = segment.start_rate;
  const double slope = std::isinf(segment.duration_s) ? 0 : (segment.end_rate - a) / segment.duration_s;
  const double root = std::sqrt(std::max(0.0, a * a + 2 * slope * count));
  const double denominator = a + root;
  return denominator > 0 ? 2 * count / denominator : 0;
}

}  // namespace

ArrivalSchedule::ArrivalSchedule(std::vector<RateSegment> segments, double end_s)
    : segments_(std::move(segments)), end_s_(end_s) {
  double start = 0;
  double arrivals = 0;
  for (const RateSegment& segment : segments_) {
    start_s_.push_back(start);
    arrivals_at_start_.push_back(arrivals);
    start += segment.duration_s;
    arrivals += arrivals_within(segment, segment.duration_s);
  }
}

double ArrivalSchedule::expected_arrivals(double t_s) const {
  t_s = std::min(t_s, length_s());
  if (t_s <= 0 || segments_.empty()) return 0;
  std::size_t k = static_cast<std::size_t>(std::upper_bound(start_s_.begin(), start_s_.end(), t_s) - start_s_.begin());
  k = k == 0 ? 0 : k - 1;
  return arrivals_at_start_[k] + arrivals_within(segments_[k], t_s - start_s_[k]);
}

std::uint64_t ArrivalSchedule::due_before(double t_s) const {
  const double expected = expected_arrivals(t_s);
  // Λ(t) = 2000 exactly means iterations 0..1999: 2000 of them. A hair of tolerance keeps a
  // product like 0.1 * 3 from adding one.
  return static_cast<std::uint64_t>(std::ceil(expected - 1e-9));
}

std::optional<double> ArrivalSchedule::time_of(std::uint64_t n, std::size_t* segment_hint) const {
  const auto target = static_cast<double>(n);
  std::size_t k = segment_hint ? std::min(*segment_hint, segments_.size()) : 0;
  // Segments are scanned forwards from the hint; a caller asking for a smaller n starts over.
  if (k < segments_.size() && arrivals_at_start_[k] > target) k = 0;
  for (; k < segments_.size(); ++k) {
    const RateSegment& segment = segments_[k];
    const double within = arrivals_within(segment, segment.duration_s);
    // The n-th arrival falls in this segment when Λ at its end exceeds n (a segment where the
    // rate stays 0 has none).
    if (std::isinf(segment.duration_s) ? segment.start_rate > 0 : arrivals_at_start_[k] + within > target) {
      if (segment_hint) *segment_hint = k;
      const double t = start_s_[k] + time_within(segment, target - arrivals_at_start_[k]);
      if (t >= end_s_) return std::nullopt;
      return t;
    }
  }
  if (segment_hint) *segment_hint = segments_.size();
  return std::nullopt;
}

double ArrivalSchedule::peak_rate() const {
  double peak = 0;
  for (const RateSegment& segment : segments_) peak = std::max({peak, segment.start_rate, segment.end_rate});
  return peak;
}

double ArrivalSchedule::length_s() const {
  double length = 0;
  for (const RateSegment& segment : segments_) length += segment.duration_s;
  return std::min(length, end_s_);
}

ThreadArrivals::ThreadArrivals(ArrivalSchedule schedule, int thread, int threads, std::int64_t limit)
    : schedule_(std::move(schedule)),
      n_(static_cast<std::uint64_t>(thread)),
      step_(static_cast<std::uint64_t>(std::max(1, threads))),
      limit_(limit) {
  seek();
}

void ThreadArrivals::advance() {
  if (!next_s_) return;
  n_ += step_;
  seek();
}

void ThreadArrivals::seek() {
  if (limit_ >= 0 && n_ >= static_cast<std::uint64_t>(limit_)) {
    next_s_.reset();
    return;
  }
  next_s_ = schedule_.time_of(n_, &hint_);
}

std::int64_t ThreadArrivals::share_of(std::int64_t limit, int thread, int threads) {
  if (limit <= thread) return 0;
  return (limit - thread + threads - 1) / threads;
}

}  // namespace cicada::vu
