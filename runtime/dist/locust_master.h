#pragma once
// `cicada run SCRIPT --master`: the run's users execute on remote workers (cicada's or
// Locust's own), over Locust's protocol (docs/distributed.md). To the coordinator the master
// is one worker link (loop::WorkerLink) like a worker thread: the load model's orders (users
// per class, up and down at the spawn rate, a shape's targets) arrive as commands, and are
// spread over the connected workers as Locust 2.x does, each worker told its counts per class
// with a `spawn` message; the workers' stats reports (deltas) come back as the link's answers
// to the coordinator's once-a-second stats rounds, exactly merged when the workers send
// cicada's histograms. Everything runs on the run's loop, the ZeroMQ socket polled by it.
#include <uv.h>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "runtime/dist/locust_protocol.h"
#include "runtime/dist/zmq_channel.h"
#include "runtime/loop/mailbox.h"
#include "runtime/loop/messages.h"
#include "runtime/loop/worker_link.h"

namespace cicada::dist {

struct MasterOptions {
  std::string bind_host = "*";  // Locust's default: every address
  int bind_port = 5557;
  int expect_workers = 1;        // the test starts once this many are connected
  double expect_workers_max_wait_s = 0;  // 0: wait for ever; past it the run ends, code 2
  double stop_timeout_s = 0;     // sent in every spawn order (the workers' --stop-timeout)
  std::string host;              // -H, sent in every spawn order (a start's host replaces it)
};

class LocustMaster final : public loop::RemoteWorkerLink {
 public:
  LocustMaster(uv_loop_t* loop, MasterOptions options);
  ~LocustMaster() override;

  // Binds the ROUTER socket; false with `error` set when the address is taken or bad.
  bool bind(std::string* error);

  // loop::RemoteWorkerLink
  void attach(loop::Mailbox<loop::WorkerEvent>* events, std::vector<std::string> class_names) override;
  void start() override;
  void post(loop::WorkerCommand command) override;
  void join() override {}
  const common::RunningTask& running_task() const override { return no_task_; }
  std::vector<loop::RemoteWorkerInfo> remote_workers() const override;

 private:
  struct Worker {
    std::string id;
    int index = 0;
    std::string state = "ready";
    int liveness = 0;            // heartbeats it may still miss
    bool missing = false;        // no heartbeat: its users were given to the others
    bool stopped = false;        // said client_stopped: out of the dispatch until client_ready
    bool stop_confirmed = false;  // said client_stopped since the test's stop began
    bool wants_heartbeats = false;  // a worker that knows the master's heartbeat (cicada, Locust 2.19+)
    // cicada's workers send their last numbers before client_stopped; Locust's own only when
    // told to quit, so at the test's stop they are told to.
    bool reports_before_stopped = false;
    std::vector<int> users;      // by class index, as last ordered
    int reported_users = 0;
    double cpu_percent = 0;
    std::uint64_t memory_bytes = 0;
  };

  // Commands from the coordinator.
  void handle(const loop::SpawnUsers& command);
  void handle(const loop::StopUsers& command);
  void handle(const loop::StopAllUsers& command);
  void handle(const loop::CollectStats& command);
  void handle(const loop::Shutdown& command);

  // Messages from the workers.
  void on_message(std::string identity, std::string bytes);
  void on_client_ready(Worker& worker, const msgpack::object& data);
  void on_heartbeat(Worker& worker, const msgpack::object& data);
  void on_stats(Worker& worker, const msgpack::object& data);
  void on_exception(Worker& worker, const msgpack::object& data);
  void on_worker_gone(Worker& worker, const std::string& why);
  void on_client_stopped(Worker& worker);

  void heartbeat_tick();
  // Places `count` users of `class_index` on the live workers with the fewest users.
  void place(int class_index, int count);
  // Users per class (a lost worker's, those waiting for a worker) placed as above.
  void place_all(const std::vector<int>& per_class);
  void unplace(int class_index, int count);
  // Moves users from the busiest workers to the least busy until they differ by at most one.
  void rebalance();
  void send_spawn_orders();
  void finish_stopping();
  bool in_dispatch(const Worker& worker) const { return !worker.missing && !worker.stopped; }
  int live_worker_count() const;
  int total_users(const Worker& worker) const;
  template <class PackData>
  void send_to(const Worker& worker, std::string_view type, PackData&& pack_data);
  Worker* find(const std::string& id);
  void signal_ready_if_enough();

  uv_loop_t* loop_;
  loop::Mailbox<loop::WorkerEvent>* events_ = nullptr;
  std::vector<std::string> class_names_;
  MasterOptions options_;
  std::unique_ptr<ZmqRouter> router_;
  std::map<std::string, Worker> workers_;  // by node id
  int next_index_ = 0;
  std::vector<int> unplaced_;        // users the load model wants, by class, waiting for a worker
  std::set<std::string> dirty_;      // workers whose counts changed since the last orders
  std::string host_;
  double last_spawn_timestamp_ = 0;
  bool ready_signalled_ = false;
  bool test_begun_ = false;          // a spawn has been ordered
  bool stopping_ = false;
  bool stop_reported_ = false;
  double stop_deadline_s_ = 0;
  double waiting_since_s_ = 0;
  bool shut_down_ = false;
  stats::StatsBook pending_;         // what the workers reported since the last stats round
  common::RunningTask no_task_;
  uv_timer_t heartbeat_timer_{};
  bool timer_open_ = false;
};

}  // namespace cicada::dist
