#pragma once
// How the users of a run are driven (docs/load-models.md): the closed model ramps a user count
// (from -u, a load shape or a front-end), the open model starts iterations on a schedule over
// a pool of users. The coordinator owns one and forwards it what the workers say; the model
// answers through its host.
#include <string>
#include <vector>

#include "runtime/control/run_controller.h"
#include "runtime/loop/messages.h"
#include "runtime/report/run_info.h"

namespace cicada::runner {

// What a load model may do to the run.
class LoadModelHost {
 public:
  virtual ~LoadModelHost() = default;
  virtual void post(int thread, loop::WorkerCommand command) = 0;
  virtual double now_s() const = 0;
  // Users are being started or stopped towards a new target (phase: spawning).
  virtual void on_spawning() = 0;
  // The target is reached with `users` running (phase: running; spawning_complete fires).
  virtual void on_load_reached(int users) = 0;
  virtual void begin_stop(const std::string& reason) = 0;
  // An error of the script's coordinator code (the load shape): counted like a task's.
  virtual void report_script_error(const std::string& error) = 0;
};

class LoadModel {
 public:
  virtual ~LoadModel() = default;

  // The test begins (after test_start): the first users start.
  virtual void begin(const control::LoadRequest& load) = 0;
  // A new user count from a front-end.
  virtual control::CommandResult set_users(int users, double spawn_rate) = 0;
  // Users per class by name, at once (a distributed worker: its master ramps). Classes not
  // named keep theirs.
  virtual control::CommandResult set_class_users(const std::vector<int>& /*per_selected_class*/) {
    return control::CommandResult::refused("the open model runs its own schedule; a master cannot set its users");
  }
  // The test is stopping: no more changes to the users.
  virtual void stop() = 0;
  // Closes the model's handles (the loop is being torn down).
  virtual void close() = 0;

  virtual void on_user_ended(const loop::UserEnded&) {}
  virtual void on_pool_ready(const loop::PoolReady&) {}
  virtual void on_stats_report(const loop::StatsReport&) {}

  virtual int running_users() const = 0;
  virtual int target_users() const = 0;
  virtual double spawn_rate() const = 0;
  virtual bool shape_driven() const = 0;
  // Users per selected class now; empty when the model does not count them by class.
  virtual std::vector<int> class_user_counts() const { return {}; }
  // The model's part of the reports (the open model's schedule and pool).
  virtual void describe(report::RunInfo*) const {}
};

}  // namespace cicada::runner
