#pragma once
// The closed model: a number of users, each looping over its tasks, moved towards a target at
// the spawn rate (UserRamp) and spread over the threads and classes (UserDistribution). The
// target comes from -u, a load shape (called once a second) or a front-end (set_users).
#include <uv.h>

#include <memory>

#include "runtime/runner/load_model.h"
#include "runtime/runner/run_plan.h"
#include "runtime/runner/user_distribution.h"
#include "runtime/runner/user_ramp.h"

namespace cicada::runner {

class ClosedModel final : public LoadModel {
 public:
  ClosedModel(const RunPlan& plan, script::ScriptHost& script, uv_loop_t* loop, LoadModelHost& host);

  void begin(const control::LoadRequest& load) override;
  control::CommandResult set_users(int users, double spawn_rate) override;
  // -1 in `per_selected_class`: that class keeps its users.
  control::CommandResult set_class_users(const std::vector<int>& per_selected_class) override;
  void stop() override;
  void close() override;
  void on_user_ended(const loop::UserEnded& event) override;

  int running_users() const override { return distribution_.live_total(); }
  std::vector<int> class_user_counts() const override;
  int target_users() const override { return ramp_.target(); }
  double spawn_rate() const override { return spawn_rate_; }
  bool shape_driven() const override { return plan_.load_shape.kind == script::LoadShapeInfo::Kind::Users; }

 private:
  void set_target(int users, double spawn_rate, const std::vector<bool>& classes);
  // Which selected classes `names` names (empty for none named: every class); the first name
  // of no running class goes to `unknown`.
  std::vector<bool> class_mask(const std::vector<std::string>& names, std::string* unknown) const;
  // "{"Shopper": 75, "Admin": 25}": the users running per class, for the log.
  std::string class_mix() const;
  // The users to start and stop on each thread, posted to the threads.
  void post_changes(const RampStep& step);
  void spawn_tick();
  void on_ramp_reached();
  void shape_tick();
  // The next tick, a whole number of seconds after the test began, and never earlier by the
  // run's clock: a tick that came a moment early would still see the previous second.
  void schedule_shape_tick();
  // With a fixed user count, the test ends once every user has ended on its own (stop_user,
  // --iterations-per-user); a load shape decides the end itself.
  void stop_if_all_users_ended();

  const RunPlan& plan_;
  script::ScriptHost& script_;
  LoadModelHost& host_;
  uv_loop_t* loop_;
  UserDistribution distribution_;
  UserRamp ramp_;
  double spawn_rate_ = 1;
  double began_s_ = 0;
  int shape_ticks_ = 0;  // ticks of the load shape so far: the next is due at began_s_ + shape_ticks_
  bool active_ = false;
  bool ramping_ = false;
  bool ramping_down_ = false;
  bool reached_once_ = false;
  int users_ended_ = 0;
  uv_timer_t spawn_timer_{};
  uv_timer_t shape_timer_{};
};

}  // namespace cicada::runner
