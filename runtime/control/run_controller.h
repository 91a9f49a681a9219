#pragma once
// What every front-end (the terminal, next the web UI and a distributed master) may ask of a
// run, and all it may read. The runner implements it (runtime/runner/coordinator.h); a
// front-end holds a RunController& and nothing else of the run, and is called on the run's
// loop (the coordinator's thread), which it may use for its own handles.
#include <uv.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/control/run_phase.h"
#include "runtime/loop/worker_link.h"
#include "runtime/report/history.h"
#include "runtime/report/run_info.h"
#include "runtime/report/thresholds.h"
#include "runtime/stats/run_stats.h"

namespace cicada::control {

// The load to start with. Empty fields: what the options say (-u, -r, -t, -H; the open
// model's rate; every selected class).
struct LoadRequest {
  std::optional<int> users;
  std::optional<double> spawn_rate;
  std::optional<double> run_time_s;
  std::optional<std::string> host;       // the base URL every new user's client gets
  std::vector<std::string> user_classes;  // a subset of the classes the options selected
  std::optional<std::vector<std::string>> tags;  // replaces -T: only tasks with one of these
  // Users per class, started at once (a distributed worker: its master ramps); replaces
  // `users` and `user_classes`.
  std::map<std::string, int> class_users;
};

// A user class the run may start, for a front-end's form.
struct UserClassChoice {
  std::string name;
  int weight = 1;
  int fixed_count = 0;
  std::string host;  // the class's own host, empty when none
};

// What the file reports are made of, as it stands now.
struct RunReportView {
  report::RunInfo info;
  const std::vector<report::HistoryPoint>* history = nullptr;  // valid until the next turn of the loop
  std::vector<report::ThresholdResult> thresholds;
  stats::EntryStats recent;  // the Aggregated requests of the last seconds (current percentiles)
};

// The run as it stands, for a front-end to show.
struct RunSnapshot {
  RunPhase phase = RunPhase::Ready;
  bool open_model = false;
  bool shape_driven = false;  // a load shape sets the user count: set_users() does not apply
  int target_users = 0;       // what the load moves towards (the open model: its pool)
  int running_users = 0;
  double spawn_rate = 0;
  std::string stop_reason;     // once stopping
  const stats::RunStats* stats = nullptr;  // valid until the next turn of the run's loop
  bool distributed = false;  // a master: the users run on remote workers
  std::vector<loop::RemoteWorkerInfo> remote_workers;
};

// What a front-end that passes the run's numbers on (a distributed worker) is told, on the
// run's loop.
struct StatsObserver {
  // Each batch of requests a worker thread hands over (once a second, and at its stop), as
  // it is merged into the run's totals.
  std::function<void(const stats::StatsBook& delta)> on_delta;
  // A second closed: every thread has handed over what it recorded until then.
  std::function<void()> on_second;
};

// The outcome of a command: refused commands say why, for the front-end to show.
struct CommandResult {
  bool accepted = true;
  std::string message;
  static CommandResult refused(std::string why) { return {false, std::move(why)}; }
};

class RunController {
 public:
  virtual ~RunController() = default;

  // Begins the test once the workers are ready (at once when they are). Only from ready; a
  // request with a bad field is refused whole.
  virtual CommandResult start(const LoadRequest& load) = 0;
  // The closed model's user count, reached at `spawn_rate` per second (<= 0: the run's rate).
  virtual CommandResult set_users(int users, double spawn_rate) = 0;
  // Users per class by name, at once, without a ramp (a distributed worker: the master ramps);
  // classes not named keep theirs. Before the test begins, the counts it will begin with.
  virtual CommandResult set_class_users(const std::map<std::string, int>& users) = 0;
  // Stops the test: users stop, on_stop runs, every report is written.
  virtual CommandResult stop(const std::string& reason) = 0;
  // Ends the run, whatever its phase: the test stops as stop() does, and a run that never
  // started ends too (a distributed worker told to quit, as a signal would).
  virtual void quit(const std::string& reason) = 0;
  // Forgets the requests and failures so far (exceptions stay), as Locust's "Reset stats".
  virtual CommandResult reset_stats() = 0;
  virtual RunSnapshot snapshot() const = 0;
  virtual RunReportView report_view() const = 0;
  // The classes the options selected, in script order.
  virtual std::vector<UserClassChoice> user_classes() const = 0;
  // Locust's /tasks document: {"per_class": {Class: {"ratio", "tasks"}}, "total": {...}}, for
  // the users running now (the options' user count before the test starts).
  virtual std::string task_ratios_json() = 0;
  virtual void add_stats_observer(StatsObserver observer) = 0;
  virtual RunPhaseMachine& phases() = 0;
  // The run's loop, for a front-end's own handles (a terminal, a listening socket).
  virtual uv_loop_t* loop() = 0;
  // Called before the process exits without unwinding (a second interrupt, an abandoned
  // worker), for a front-end to put back what it changed (the terminal's mode).
  virtual void add_exit_hook(std::function<void()> hook) = 0;
};

}  // namespace cicada::control
