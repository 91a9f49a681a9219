#pragma once
// A worker thread: its own libuv loop and LuaJIT state, hosting virtual users. It shares
// nothing mutable with other threads; it takes commands from its mailbox and reports events
// (readiness, stats deltas, endings) to the coordinator's.
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "runtime/common/thread_context.h"
#include "runtime/loop/mailbox.h"
#include "runtime/loop/messages.h"
#include "runtime/loop/worker_link.h"

namespace cicada::loop {

struct WorkerConfig {
  int index = 0;
  std::string script_path;
  std::string host_override;
  std::int64_t iteration_budget = -1;  // -1 = unlimited
  std::int64_t iterations_per_user = -1;  // -1 = unlimited
  std::vector<std::string> tags;
  std::vector<std::string> exclude_tags;
  double stop_timeout_s = 0;
  bool verify_tls = true;  // --insecure turns it off for every client without a verify setting
};

class Worker final : public WorkerLink {
 public:
  Worker(WorkerConfig config, Mailbox<WorkerEvent>* coordinator);
  ~Worker() override;
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void start() override;
  // Thread-safe; valid once the worker has reported WorkerReady.
  void post(WorkerCommand command) override { inbox_.post(std::move(command)); }
  void join() override;
  // The task its users last started (any thread may read it).
  const common::RunningTask& running_task() const override { return running_task_; }

 private:
  class Thread;
  WorkerConfig config_;
  Mailbox<WorkerEvent>* coordinator_;
  Mailbox<WorkerCommand> inbox_;
  common::RunningTask running_task_;
  std::thread thread_;
};

}  // namespace cicada::loop
