#pragma once
// `--processes N` (Locust's flag, docs/distributed.md): N worker processes of this machine,
// started as `cicada run SCRIPT --worker` children that connect to 127.0.0.1, so that one
// command is a master and its workers (or, with --worker, only the workers of another master).
#include <sys/types.h>

#include <string>
#include <vector>

#include "runtime/config/run_options.h"

namespace cicada::cli {

class LocalWorkers {
 public:
  // How many `--processes` asks for (-1: one per core).
  static int count_for(const config::RunOptions& options);

  // Starts `count` workers of the master at 127.0.0.1:`master_port` (or the options' master
  // host with --worker). Their stdout goes nowhere (each has its own console tables); their
  // stderr is this process's. False with `error` set when one cannot be started.
  bool start(const config::RunOptions& options, int count, int master_port, std::string* error);
  // Waits up to `timeout_s` for every worker to exit, then kills the rest; the highest exit code
  // (128 + signal for a killed one).
  int wait(double timeout_s);
  // Passes a signal on (Ctrl-C and SIGTERM reach the workers through the parent).
  void signal_all(int signum);
  ~LocalWorkers();

 private:
  std::vector<pid_t> pids_;
};

}  // namespace cicada::cli
