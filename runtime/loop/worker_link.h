#pragma once
// What the coordinator posts its commands to and hears events from: a worker thread
// (loop::Worker), or a distributed master's remote workers seen as one (runtime/dist), which
// answers on the coordinator's own loop through the same mailbox.
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/common/thread_context.h"
#include "runtime/loop/mailbox.h"
#include "runtime/loop/messages.h"

namespace cicada::loop {

// A remote worker of a distributed master, for the front-ends to show.
struct RemoteWorkerInfo {
  std::string id;
  int index = 0;
  std::string state;  // Locust's: ready, spawning, running, stopped, missing
  int users = 0;
  double cpu_percent = 0;
  std::uint64_t memory_bytes = 0;
};

class WorkerLink {
 public:
  virtual ~WorkerLink() = default;
  virtual void start() = 0;
  // Valid once the link has reported WorkerReady; thread-safe for a thread.
  virtual void post(WorkerCommand command) = 0;
  virtual void join() = 0;
  // The task its users last started (any thread may read it).
  virtual const common::RunningTask& running_task() const = 0;
  // A distributed master's workers; empty for a thread.
  virtual std::vector<RemoteWorkerInfo> remote_workers() const { return {}; }
};

// A distributed master's workers (runtime/dist), made before the run and attached to the
// coordinator's mailbox when its workers start. `class_names[i]` is the name of the script's
// class i, the commands' class index (empty for a class the run does not select).
class RemoteWorkerLink : public WorkerLink {
 public:
  virtual void attach(Mailbox<WorkerEvent>* events, std::vector<std::string> class_names) = 0;
};

}  // namespace cicada::loop
