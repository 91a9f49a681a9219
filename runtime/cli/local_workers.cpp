#include "runtime/cli/local_workers.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cstring>
#include <string_view>

extern char** environ;

namespace cicada::cli {

int LocalWorkers::count_for(const config::RunOptions& options) {
  if (options.processes == -1) return std::max(1, static_cast<int>(uv_available_parallelism()));
  return std::max(0, options.processes);
}

bool LocalWorkers::start(const config::RunOptions& options, int count, int master_port, std::string* error) {
  // The cores are shared: each worker gets its part of them as threads (or --threads each).
  const int cores = std::max(1, static_cast<int>(uv_available_parallelism()));
  const int threads = options.threads > 0 ? options.threads : std::max(1, cores / std::max(1, count));
  std::vector<std::string> args = {"cicada", "run", options.script, "--worker",
                                   "--master-host", options.worker ? options.master_host : "127.0.0.1",
                                   "--master-port", std::to_string(master_port), "--threads", std::to_string(threads),
                                   "--stop-timeout", std::to_string(options.stop_timeout_s),
                                   "--max-body-memory", std::to_string(options.max_body_memory_mib),
                                   "--master-timeout", std::to_string(options.master_timeout_s),
                                   // The options reach the workers from this command line only: no
                                   // config file, no CICADA_* variables (which would also make
                                   // every worker write the master's report files).
                                   "--config", "/dev/null"};
  if (options.insecure) args.push_back("--insecure");
  for (const std::string& tag : options.tags) args.insert(args.end(), {"--tags", tag});
  for (const std::string& tag : options.exclude_tags) args.insert(args.end(), {"--exclude-tags", tag});
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<char*> env;
  for (char** variable = environ; *variable; ++variable)
    if (std::string_view(*variable).rfind("CICADA_", 0) != 0) env.push_back(*variable);
  env.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  bool started = true;
  for (int i = 0; i < count; ++i) {
    pid_t pid = 0;
    const int failed = posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv.data(), env.data());
    if (failed != 0) {
      *error = std::string("cannot start a local worker: ") + std::strerror(failed);
      started = false;
      break;
    }
    pids_.push_back(pid);
  }
  posix_spawn_file_actions_destroy(&actions);
  return started;
}

int LocalWorkers::wait(double timeout_s) {
  int worst = 0;
  const auto record = [&worst](int status) {
    worst = std::max(worst, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  };
  const timespec pause{0, 50 * 1000 * 1000};
  for (double waited = 0; !pids_.empty(); waited += 0.05) {
    for (auto it = pids_.begin(); it != pids_.end();) {
      int status = 0;
      const pid_t done = waitpid(*it, &status, WNOHANG);
      if (done == 0) {
        ++it;
        continue;
      }
      if (done > 0) record(status);
      it = pids_.erase(it);
    }
    if (pids_.empty()) break;
    if (waited < timeout_s) {
      nanosleep(&pause, nullptr);
      continue;
    }
    signal_all(SIGKILL);
    for (pid_t pid : pids_) {
      int status = 0;
      if (waitpid(pid, &status, 0) == pid) record(status);
    }
    pids_.clear();
  }
  return worst;
}

void LocalWorkers::signal_all(int signum) {
  for (pid_t pid : pids_) kill(pid, signum);
}

LocalWorkers::~LocalWorkers() {
  if (!pids_.empty()) {
    signal_all(SIGKILL);
    wait(5);
  }
}

}  // namespace cicada::cli
