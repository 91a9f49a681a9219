#pragma once
// The main thread of `cicada run`: loads the script once to check it and read its user
// classes and options, runs cicada.setup(), starts the worker threads, drives the load model
// (docs/load-models.md: users ramped up and down at the spawn rate, from -u, a load shape or
// the keyboard; or the open model's arrival schedule and its pool of users), merges stats once
// a second, prints the console tables, fires the coordinator events, and stops the test on
// time, iteration count, the shape's end, stop_test() or signal.
#include <uv.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/common/thread_context.h"
#include "runtime/config/option_layers.h"
#include "runtime/http/http_runtime.h"
#include "runtime/loop/mailbox.h"
#include "runtime/loop/messages.h"
#include "runtime/loop/worker.h"
#include "runtime/report/run_reports.h"
#include "runtime/report/thresholds.h"
#include "runtime/runner/terminal_keys.h"
#include "runtime/runner/user_distribution.h"
#include "runtime/runner/user_ramp.h"
#include "runtime/script/lua_value.h"
#include "runtime/script/script_host.h"
#include "runtime/stats/run_stats.h"
#include "runtime/vu/arrival_schedule.h"
#include "runtime/vu/scheduler.h"

namespace cicada::runner {

class Coordinator final : public vu::SchedulerListener {
 public:
  explicit Coordinator(config::ResolvedCommand command);
  ~Coordinator() override;
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  // Runs the whole test; returns the process exit code.
  int run();

  // The coordinator's own scheduler only runs setup/teardown/event coroutines.
  void on_user_ended(int) override {}
  void on_iterations_exhausted() override {}
  void on_all_stopped() override {}

 private:
  enum class Phase { Starting, Running, Stopping, Reporting, Finished };

  // Returns -1 to go on, or an exit code (listing, errors).
  int prepare();
  bool select_classes(const std::vector<script::UserClassInfo>& all, std::string* error);
  void start_workers();
  void on_events(std::vector<loop::WorkerEvent>& events);
  void handle(loop::WorkerReady& event);
  void handle(loop::StatsReport& event);
  void handle(loop::IterationsExhausted& event);
  void handle(loop::UserEnded& event);
  void handle(loop::WorkerStopped& event);
  void handle(loop::StopTestRequested& event);
  void handle(loop::PoolReady& event);
  void stop_if_all_users_ended();
  void on_setup_done(const std::string& error);
  void maybe_begin_test();
  void begin_test();
  // The load model, read once the options are final; false with a message on a bad combination.
  bool prepare_load_model(std::string* error);
  // The closed model: a new user count to ramp to (from -u, a shape or the keyboard).
  void set_user_target(int users, double spawn_rate, const std::vector<bool>& classes);
  void spawn_tick();
  void on_ramp_reached();
  void shape_tick();
  void on_key(TerminalKeys::Key key);
  // The open model: the pool starts, then (once every thread's pool is ready) the schedule.
  void begin_pool();
  void start_arrivals();
  void on_all_users_running();
  void stats_tick();
  void watch_workers();
  void check_entry_count();
  std::string running_task_text(std::size_t worker) const;
  [[noreturn]] void abandon_silent_workers(const std::vector<std::size_t>& silent);
  void close_stats_second();
  void print_tick();
  void begin_stop(const std::string& reason);
  void on_users_stopped();
  void close_last_second();
  void finish_report();
  // Thresholds from cicada.thresholds{} and the options, and the report files, checked before
  // any traffic; false with a message on a malformed threshold or an unwritable file.
  bool prepare_reports(std::string* error);
  bool check_open_file_limit(int users, std::string* error);
  bool load_thresholds(std::string* error);
  // Once a second while running: stops the test when an abort_on_fail threshold is surely broken.
  void check_thresholds();
  report::RunInfo run_info() const;
  // Where the console tables go: stdout, unless --json keeps stdout for the JSON summary.
  std::FILE* table_stream() const { return options_.json ? stderr : stdout; }
  int running_users() const;
  void abort_startup(int exit_code);
  void on_signal(int signum);
  void close_handles();
  double now_s() const;
  std::string class_mix() const;
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
  config::RunOptions options_;
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
  std::vector<std::unique_ptr<loop::Worker>> workers_;
  std::vector<script::UserClassInfo> classes_;  // the selected classes, in script order
  std::vector<int> class_index_in_script_;      // selected class -> index in the script's list
  std::string default_host_;                    // for setup/teardown/event contexts
  std::unique_ptr<UserDistribution> distribution_;
  std::vector<std::int64_t> iteration_budgets_;

  // The load model (docs/load-models.md).
  bool open_model_ = false;
  script::LoadShapeInfo load_shape_;  // cicada.shape / cicada.stages
  UserRamp ramp_;                     // closed model
  bool ramping_ = false;
  bool ramping_down_ = false;
  TerminalKeys keys_;
  vu::ArrivalSchedule arrival_schedule_;  // open model
  int pool_users_ = 0;                // open model: users started before the first iteration
  int max_pool_users_ = 0;            // ... and the most the pool may grow to
  int workers_pool_ready_ = 0;
  bool arrivals_started_ = false;
  double arrivals_start_s_ = 0;       // the schedule's time 0, on now_s()'s clock
  double arrivals_end_s_ = 0;         // when the test began to stop
  std::vector<std::size_t> worker_users_;  // open model: users per thread, as last reported
  std::shared_ptr<const script::LuaValue> setup_data_;
  stats::RunStats stats_;
  std::unique_ptr<report::RunReports> reports_;
  std::unique_ptr<report::ThresholdEvaluator> thresholds_;

  Phase phase_ = Phase::Starting;
  int threads_ = 1;
  int workers_ready_ = 0;
  int workers_stopped_ = 0;
  int workers_exhausted_ = 0;
  int workers_with_budget_ = 0;
  int users_ended_ = 0;
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
  bool stats_round_open_ = false;  // bumped by --reset-stats; older reports are dropped
  int exit_code_ = 0;
  // The watchdog (watch_workers): when each worker last posted anything, which have stopped.
  std::vector<double> worker_last_heard_s_;
  std::vector<bool> worker_done_;
  std::vector<bool> worker_reported_silent_;
  double stop_began_s_ = 0;
  bool entries_warned_ = false;  // the warning about too many distinct request names

  uv_timer_t spawn_timer_{};
  uv_timer_t shape_timer_{};
  uv_timer_t stats_timer_{};
  uv_timer_t run_timer_{};
  uv_timer_t stop_deadline_timer_{};
  uv_signal_t sigint_{};
  uv_signal_t sigterm_{};
  uv_signal_t sighup_{};
  bool handles_open_ = false;
};

}  // namespace cicada::runner
