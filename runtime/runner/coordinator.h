#pragma once
// The main thread of `cicada run`: loads the script once to check it and read its user
// classes, starts the worker threads, ramps users up at the spawn rate, merges stats once a
// second, prints the console tables, and stops the test on time, iteration count or signal.
#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "runtime/cli/options.h"
#include "runtime/http/http_runtime.h"
#include "runtime/loop/thread_context.h"
#include "runtime/loop/mailbox.h"
#include "runtime/loop/messages.h"
#include "runtime/loop/worker.h"
#include "runtime/runner/user_distribution.h"
#include "runtime/script/script_host.h"
#include "runtime/stats/run_stats.h"

namespace cicada::runner {

class Coordinator {
 public:
  explicit Coordinator(cli::RunOptions options);
  ~Coordinator();
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  // Runs the whole test; returns the process exit code.
  int run();

 private:
  enum class Phase { Starting, Running, Stopping, Finished };

  bool prepare(std::string* error);
  void start_workers();
  void on_events(std::vector<loop::WorkerEvent>& events);
  void handle(loop::WorkerReady& event);
  void handle(loop::StatsReport& event);
  void handle(loop::IterationsExhausted& event);
  void handle(loop::UserEnded& event);
  void handle(loop::WorkerStopped& event);
  void begin_test();
  void spawn_tick();
  void stats_tick();
  void print_tick();
  void begin_stop(const std::string& reason);
  void finish();
  void print_final_report();
  void shut_down_workers();
  void on_signal(int signum);
  void close_handles();
  double now_s() const;
  std::string class_mix() const;

  cli::RunOptions options_;
  uv_loop_t loop_{};
  // The coordinator's own Lua state: it checks the script and reads its classes before any
  // worker starts (later: setup, test_start/test_stop hooks, shapes, thresholds).
  stats::StatsBook coordinator_book_;
  std::unique_ptr<http::HttpRuntime> http_;
  loop::ThreadContext context_;
  std::unique_ptr<script::ScriptHost> script_;
  loop::Mailbox<loop::WorkerEvent> events_;
  std::vector<std::unique_ptr<loop::Worker>> workers_;
  std::vector<script::UserClassInfo> classes_;  // the selected classes, in script order
  std::vector<int> class_index_in_script_;      // selected class -> index in the script's list
  std::unique_ptr<UserDistribution> distribution_;
  std::vector<std::int64_t> iteration_budgets_;
  stats::RunStats stats_;

  Phase phase_ = Phase::Starting;
  int threads_ = 1;
  int workers_ready_ = 0;
  int workers_stopped_ = 0;
  int workers_exhausted_ = 0;
  int workers_with_budget_ = 0;
  int users_ended_ = 0;
  bool startup_failed_ = false;
  double started_s_ = 0;
  int interrupts_ = 0;
  int stats_ticks_ = 0;
  int exit_code_ = 0;

  uv_timer_t spawn_timer_{};
  uv_timer_t stats_timer_{};
  uv_timer_t run_timer_{};
  uv_timer_t stop_deadline_timer_{};
  uv_signal_t sigint_{};
  uv_signal_t sigterm_{};
  bool handles_open_ = false;
};

}  // namespace cicada::runner
