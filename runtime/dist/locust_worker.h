#pragma once
// `cicada run SCRIPT --worker`: a front-end that makes this run one worker of a Locust master
// (or a cicada master), over Locust's protocol (docs/distributed.md). The master says how
// many users of each class to run (`spawn`, at once: the master ramps with successive
// spawns), when to stop and when to quit; the worker sends its heartbeat every second and
// what its threads recorded every 3 s, as deltas. It drives the run only through its
// controller, on the run's loop; the ZeroMQ socket is polled by that loop too, so the worker
// threads' hot paths do not change.
#include <uv.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "runtime/control/run_controller.h"
#include "runtime/dist/locust_protocol.h"
#include "runtime/dist/zmq_channel.h"

namespace cicada::dist {

struct WorkerOptions {
  std::string master_host = "127.0.0.1";
  int master_port = 5557;
  std::string node_id;  // empty: Locust's `<hostname>_<32 hex digits>`
  double master_timeout_s = 60;  // without a heartbeat from a master that sends them
};

class LocustWorker {
 public:
  LocustWorker(control::RunController& run, WorkerOptions options);
  ~LocustWorker();
  LocustWorker(const LocustWorker&) = delete;
  LocustWorker& operator=(const LocustWorker&) = delete;

  // Connects (ZeroMQ connects in the background and retries) and says `client_ready`.
  bool connect(std::string* error);
  const std::string& node_id() const { return options_.node_id; }
  // Non-zero when the worker gave up (no master answered, the master went silent): the exit
  // code the process should end with.
  int failure_exit_code() const { return failure_exit_code_; }

 private:
  enum class State { Ready, Spawning, Running, Stopping, Quitting };
  static const char* state_name(State state);

  void on_message(std::string bytes);
  void on_spawn(const SpawnOrder& order);
  void on_stop();
  void on_quit(const std::string& why);
  void on_phase(control::RunPhase to);
  void on_delta(const stats::StatsBook& delta);
  void on_second();
  void heartbeat_tick();
  void report_tick();
  void send_stats();
  void send_exceptions(const stats::StatsBook& delta);
  void finish_stop();
  void give_up(const std::string& why, int exit_code);
  template <class PackData>
  void send(std::string_view type, PackData&& pack_data);
  void send_nil(std::string_view type);
  void send_client_ready();
  void ask_to_join();
  void send_exception(std::string_view message, std::string_view traceback);
  int user_count() const;
  void close_timers();

  control::RunController& run_;
  WorkerOptions options_;
  std::unique_ptr<ZmqDealer> dealer_;
  State state_ = State::Ready;
  bool acked_ = false;
  int connect_attempts_ = 0;
  double last_ack_wait_s_ = 0;
  bool run_started_ = false;        // the controller's test has been started (first spawn)
  bool complete_pending_ = false;   // spawning_complete waits for the run to reach its users
  double last_spawn_timestamp_ = 0;
  std::map<std::string, int> class_users_;  // what the master asked for, by class
  int stop_seconds_to_wait_ = 0;    // stats rounds to wait after a stop before reporting it
  double master_heard_s_ = -1;      // last master heartbeat (masters since Locust 2.19 send one)
  int failure_exit_code_ = 0;
  bool closed_ = false;
  bool timers_closed_ = false;

  // What the threads recorded since the last report.
  stats::StatsBook pending_;
  ReportDelta pending_delta_;
  double test_start_unix_s_ = 0;

  // CPU use between heartbeats.
  double cpu_last_s_ = 0;
  double wall_last_s_ = 0;

  uv_timer_t heartbeat_timer_{};
  uv_timer_t report_timer_{};
};

}  // namespace cicada::dist
