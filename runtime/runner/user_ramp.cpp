#include "runtime/runner/user_ramp.h"

#include <algorithm>
#include <cmath>

namespace cicada::runner {

bool UserRamp::set_target(int users, double rate, const std::vector<bool>& classes, double now_s) {
  if (has_target_ && users == target_ && rate == rate_ && classes == classes_) return false;
  has_target_ = true;
  target_ = users;
  rate_ = rate;
  classes_ = classes;
  started_s_ = now_s;
  changes_ = 0;
  last_change_was_spawn_ = false;
  return true;
}

double UserRamp::tick_s() const { return std::clamp(1.0 / rate_, 0.01, 1.0); }

RampStep UserRamp::step(double now_s, UserDistribution& distribution) {
  RampStep step;
  distribution.set_active_classes(classes_.empty() ? std::vector<bool>(distribution.active_classes().size(), true)
                                                  : classes_);
  // The first change at once, then `rate` a second. The ticks come from libuv's millisecond
  // clock, which can be a little behind the one `now_s` is read from: a tick meant for a change
  // may arrive a hair before it is due, so a few milliseconds early count as on time.
  constexpr double kTickSlackS = 0.005;
  const double elapsed = std::max(0.0, now_s - started_s_ + kTickSlackS);
  const auto allowed = static_cast<long long>(std::floor(rate_ * elapsed + 1e-9)) + 1;
  // Bounded: each pass makes one change, and there are at most `allowed - changes_` of them.
  while (changes_ < allowed) {
    const int inactive = distribution.total() - distribution.active_total();
    const bool short_of_target = distribution.active_total() < target_;
    if (short_of_target && (inactive == 0 || !last_change_was_spawn_)) {
      auto placement = distribution.add();
      if (!placement) {
        step.capped = true;
        break;
      }
      ++step.spawn[placement->thread][placement->class_index];
      last_change_was_spawn_ = true;
    } else if (inactive > 0 || distribution.active_total() > target_) {
      auto placement = distribution.remove();
      if (!placement) break;
      // A user that ended on its own is only forgotten: nothing to stop, and no time taken.
      if (placement->ended) continue;
      ++step.stop[placement->thread][placement->class_index];
      last_change_was_spawn_ = false;
    } else {
      break;
    }
    ++changes_;
  }
  step.reached = step.capped ||
                 (distribution.total() == distribution.active_total() && distribution.active_total() == target_);
  return step;
}

}  // namespace cicada::runner
