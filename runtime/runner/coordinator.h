#pragma once
// The main thread of `cicada run`, and the run controller every front-end drives
// (control::RunController). It makes the run plan (runtime/runner/run_plan.h: the script
// loaded once to check it and read its classes and options), runs cicada.setup(), starts the
// worker threads, and once started drives the load model (closed or open), merges stats once
// a second, prints the console tables, fires the coordinator events, and stops the test on
// time, iteration count, the shape's end, stop_test(), a front-end or a signal. The run's
// phase is one state machine (control::RunPhaseMachine).
#include <uv.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/common/thread_context.h"
#include "runtime/config/option_layers.h"
#include "runtime/control/run_controller.h"
#include "runtime/http/http_runtime.h"
#include "runtime/loop/mailbox.h"
#include "runtime/loop/messages.h"
#include "runtime/loop/worker.h"
#include "runtime/loop/worker_link.h"
#include "runtime/runner/load_model.h"
#include "runtime/runner/run_plan.h"
#include "runtime/script/lua_value.h"
#include "runtime/script/script_host.h"
#include "runtime/stats/run_stats.h"
#include "runtime/vu/scheduler.h"

namespace cicada::runner {

class Coordinator final : public control::RunController, private LoadModelHost, private vu::SchedulerListener {
 public:
  explicit Coordinator(config::ResolvedCommand command);
  ~Coordinator() override;
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  // Makes the run plan. Returns -1 to go on (then attach front-ends, start() and run()), or
  // the exit code to end with (--list, --show-task-ratio, a bad script or option).
  int prepare();
  // Runs the loop until the run is over; returns the process exit code.
  int run();

  // --master: the users run on remote workers (runtime/dist), which the coordinator drives as
  // its one worker. Before run().
  void run_users_remotely(std::unique_ptr<loop::RemoteWorkerLink> link) { remote_link_ = std::move(link); }

  // After prepare(): the options of the run, every layer merged (the script's included).
  const config::RunOptions& options() const { return plan_.options; }
  // Whether the options or the script say what load to run: -u, --arrival-rate, a load shape
  // or stages, -i, --iterations-per-user or -t (a run without one can wait for the web UI).
  bool load_given() const;

  // control::RunController
  control::CommandResult start(const control::LoadRequest& load) override;
  control::CommandResult set_users(int users, double spawn_rate) override;
  control::CommandResult set_class_users(const std::map<std::string, int>& users) override;
  control::CommandResult stop(const std::string& reason) override;
  void quit(const std::string& reason) override { begin_stop(reason); }
  control::CommandResult reset_stats() override;
  control::RunSnapshot snapshot() const override;
  control::RunReportView report_view() const override;
  std::vector<control::UserClassChoice> user_classes() const override;
  std::string task_ratios_json() override;
  void add_stats_observer(control::StatsObserver observer) override { stats_observers_.push_back(std::move(observer)); }
  control::RunPhaseMachine& phases() override { return phases_; }
  uv_loop_t* loop() override { return &loop_; }
  void add_exit_hook(std::function<void()> hook) override { exit_hooks_.push_back(std::move(hook)); }

 private:
  // LoadModelHost
  void post(int thread, loop::WorkerCommand command) override;
  double now_s() const override;
  void on_spawning() override;
  void on_load_reached(int users) override;
  void begin_stop(const std::string& reason) override;
  void report_script_error(const std::string& error) override { report_coordinator_error(error); }

  // vu::SchedulerListener: the coordinator's own scheduler only runs setup/teardown/event coroutines.
  void on_user_ended(int) override {}
  void on_iterations_exhausted() override {}
  void on_all_stopped() override {}

  void start_workers();
  void on_events(std::vector<loop::WorkerEvent>& events);
  void handle(loop::WorkerReady& event);
  void handle(loop::StatsReport& event);
  void handle(loop::IterationsExhausted& event);
  void handle(loop::UserEnded& event);
  void handle(loop::WorkerStopped& event);
  void handle(loop::StopTestRequested& event);
  void handle(loop::PoolReady& event);
  void merge_worker_delta(const stats::StatsBook& delta);
  void on_setup_done(const std::string& error);
  // Every class of `users` runs in this test, with a count of at least 0.
  control::CommandResult check_class_users(const std::map<std::string, int>& users) const;
  control::CommandResult classes_with_tasks_for(const std::vector<std::string>& tags, std::vector<std::string>& chosen);
  void maybe_begin_test();
  void begin_test();
  // The first time the load is fully up: thresholds may now abort on averages, and
  // --reset-stats resets.
  void on_all_users_running();
  void reset_stats_now();
  void stats_tick();
  void watch_workers();
  void check_entry_count();
  std::string running_task_text(std::size_t worker) const;
  [[noreturn]] void abandon_silent_workers(const std::vector<std::size_t>& silent);
  [[noreturn]] void exit_now(int code);
  void close_stats_second();
  void print_tick();
  void on_users_stopped();
  void close_last_second();
  void finish_report();
  // Once a second while running: stops the test when an abort_on_fail threshold is surely broken.
  void check_thresholds();
  report::RunInfo run_info() const;
  // Where the console tables go: stdout, unless --json keeps stdout for the JSON summary.
  std::FILE* table_stream() const { return plan_.options.json ? stderr : stdout; }
  int running_users() const;
  void abort_startup(int exit_code);
  void on_signal(int signum);
  void close_handles();
  void merge_coordinator_exceptions();
  void report_coordinator_error(std::string error);

  // Runs the stdlib's coordinator action (setup, teardown or an event) in a coroutine with
  // a client for the default host; `done` gets the error text (empty on success).
  void run_action(const std::string& action, const script::LuaValue* argument,
                  std::function<void(const std::string& error)> done);
  // An event with listeners, or `done` at once when there are none.
  void fire_event(const std::string& event, const script::LuaValue* argument, std::function<void()> done);
  void shut_down_workers();

  config::ResolvedCommand command_;
  RunPlan plan_;
  uv_loop_t loop_{};
  // The coordinator's own Lua state: checks the script, reads its classes and options, runs
  // setup/teardown and the coordinator events.
  stats::StatsBook coordinator_book_;
  std::unique_ptr<http::HttpRuntime> http_;
  common::ThreadContext context_;
  std::unique_ptr<script::ScriptHost> script_;
  std::unique_ptr<vu::Scheduler> scheduler_;
  int run_action_ref_ = -2;

  loop::Mailbox<loop::WorkerEvent> events_;
  std::vector<std::unique_ptr<loop::WorkerLink>> workers_;
  std::unique_ptr<loop::RemoteWorkerLink> remote_link_;  // until the run starts its workers
  bool distributed_ = false;
  std::unique_ptr<LoadModel> model_;
  std::shared_ptr<const script::LuaValue> setup_data_;
  stats::RunStats stats_;

  control::RunPhaseMachine phases_;
  control::LoadRequest load_;
  bool start_requested_ = false;
  bool test_starting_ = false;  // test_start listeners run: the test has begun leaving ready
  bool prepared_ = false;
  bool finished_ = false;       // the report is written; the loop is winding down
  int workers_ready_ = 0;
  int workers_stopped_ = 0;
  int workers_exhausted_ = 0;
  bool startup_failed_ = false;
  bool setup_done_ = false;
  bool spawning_complete_ = false;
  std::string stop_before_start_;  // a stop asked for while starting
  double started_s_ = 0;
  double started_unix_s_ = 0;  // wall clock, for the reports
  std::string stop_reason_;
  bool stats_reset_done_ = false;
  int interrupts_ = 0;
  int stats_ticks_ = 0;
  int stats_generation_ = 0;
  int stats_round_ = 0;  // CollectStats rounds, one a second
  std::size_t stats_replies_pending_ = 0;
  bool stats_round_open_ = false;  // bumped by a stats reset; older reports are dropped
  int exit_code_ = 0;
  std::vector<std::function<void()>> exit_hooks_;
  std::vector<control::StatsObserver> stats_observers_;
  // The watchdog (watch_workers): when each worker last posted anything, which have stopped.
  std::vector<double> worker_last_heard_s_;
  std::vector<bool> worker_done_;
  std::vector<bool> worker_reported_silent_;
  double stop_began_s_ = 0;
  bool entries_warned_ = false;  // the warning about too many distinct request names

  uv_timer_t stats_timer_{};
  uv_timer_t run_timer_{};
  uv_timer_t stop_deadline_timer_{};
  uv_signal_t sigint_{};
  uv_signal_t sigterm_{};
  uv_signal_t sighup_{};
  bool handles_open_ = false;
  std::string task_ratios_at_end_;  // task_ratios_json() once the Lua state is closed
};

}  // namespace cicada::runner
