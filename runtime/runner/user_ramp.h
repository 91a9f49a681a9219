#pragma once
// The closed model's user count over time: moves the users towards a target at the spawn rate,
// up or down, as Locust does. The target comes from -u, from a load shape every second
// (cicada.shape, cicada.stages) or from the keyboard. The first change of a ramp is at once,
// then one more every 1/rate seconds, counted from the moment the target was set, so a ramp
// keeps its pace however irregularly it is stepped.
//
// A shape may also name the classes to run: users of the other classes are then removed at the
// same pace, alternating with the new users, so the total stays near the target during the
// swap. A user that ended on its own (cicada.stop_user, --iterations-per-user) keeps its place
// in the plan (UserDistribution::mark_ended): it is not replaced, as in Locust, and a ramp down
// forgets such users before it stops live ones.
#include <map>
#include <vector>

#include "runtime/runner/user_distribution.h"

namespace cicada::runner {

// The users to start and stop now: thread -> class index -> count.
struct RampStep {
  std::map<int, std::map<int, int>> spawn;
  std::map<int, std::map<int, int>> stop;
  bool reached = false;  // the ramp is at its target
  bool capped = false;   // every class has a fixed_count and all are full: the target is out of reach
};

class UserRamp {
 public:
  // A new target at `rate` users per second, with these classes active (empty: all). Returns
  // false when it is the target already being followed (a shape says it every second).
  bool set_target(int users, double rate, const std::vector<bool>& classes, double now_s);
  RampStep step(double now_s, UserDistribution& distribution);

  int target() const { return target_; }
  double rate() const { return rate_; }
  const std::vector<bool>& classes() const { return classes_; }
  // How often to step while ramping: every 1/rate seconds, between 10 ms and a second.
  double tick_s() const;

 private:
  int target_ = 0;
  double rate_ = 1;
  std::vector<bool> classes_;
  double started_s_ = 0;
  long long changes_ = 0;  // users started or stopped since the target was set
  bool last_change_was_spawn_ = false;
  bool has_target_ = false;
};

}  // namespace cicada::runner
