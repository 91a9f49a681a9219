#include "runtime/cli/run_command.h"

#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string_view>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <vector>

#include "runtime/cli/local_workers.h"
#include "runtime/cli/terminal_front_end.h"
#include "runtime/config/option_layers.h"
#include "runtime/config/option_table.h"
#include "runtime/dist/locust_master.h"
#include "runtime/dist/locust_worker.h"
#include "runtime/runner/coordinator.h"
#include "runtime/web/web_front_end.h"

extern char** environ;

namespace cicada::cli {

using config::ResolvedCommand;

namespace {

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A new test from the web UI after one ended (Locust's "New test", a POST /swarm once stopped):
// the process starts again as it began, keeping the UI's listening socket, and starts the
// new test with the form's load. A fresh process is a fresh run: workers, stats, reports.
[[noreturn]] void start_again_for_new_test(int argc, char** argv, const web::NewTest& next) {
  std::fflush(stdout);
  std::fflush(stderr);
  // The socket survives the exec; the new process finds it and the form in its environment.
  fcntl(next.listen_fd, F_SETFD, 0);
  setenv(web::kInheritedListenerVariable, std::to_string(next.listen_fd).c_str(), 1);
  setenv(web::kNewTestFormVariable, next.form.c_str(), 1);
  std::vector<char*> args;
  static char program[] = "cicada";
  static char run[] = "run";
  args.push_back(program);
  if (std::string_view(argv[0]) == "run") {
    args.push_back(run);
    for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  } else {
    for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  }
  args.push_back(nullptr);
  execv("/proc/self/exe", args.data());
  std::perror("cicada run: cannot start again for the new test");
  std::_Exit(1);
}

// The web front-end's options, from the run's; false (with the message printed) for bad ones.
bool web_options_from(const config::RunOptions& options, bool ui, web::WebOptions* out) {
  if (options.web_port > 65535) {
    std::fprintf(stderr, "cicada run: --web-port must be 0..65535, got %d\n", options.web_port);
    return false;
  }
  if (!options.web_auth.empty() && options.web_auth.find(':') == std::string::npos) {
    std::fprintf(stderr, "cicada run: --web-auth takes user:password\n");
    return false;
  }
  out->host = options.web_host;
  out->port = static_cast<std::uint16_t>(options.web_port);
  out->auth = options.web_auth;
  out->stay_up_after_test = ui;
  out->autoquit_s = options.autoquit_s;
  if (options.csv_full_history && !options.csv_prefix.empty())
    out->full_history_csv = options.csv_prefix + "_stats_history.csv";
  out->form_users = options.users;
  out->form_spawn_rate = options.spawn_rate;
  if (options.run_time_s > 0) out->form_run_time = std::to_string(static_cast<long long>(options.run_time_s)) + "s";
  out->form_host = options.host;
  for (const std::string& tag : options.tags) out->form_tags += (out->form_tags.empty() ? "" : ",") + tag;
  return true;
}

// `--worker`: the master drives the run (docs/distributed.md); no terminal keys, no web UI.
int run_worker(runner::Coordinator& coordinator) {
  const config::RunOptions& options = coordinator.options();
  if (options.master_port < 1 || options.master_port > 65535) {
    std::fprintf(stderr, "cicada run: --master-port must be 1..65535, got %d\n", options.master_port);
    return 2;
  }
  if (options.users_given || options.run_time_s > 0 || options.arrival_rate > 0)
    std::fprintf(stderr, "cicada run: with --worker the master sets the users and the run time; -u, -r, -t and "
                         "--arrival-rate here do not apply\n");
  dist::WorkerOptions worker_options;
  worker_options.master_host = options.master_host;
  worker_options.master_port = options.master_port;
  worker_options.master_timeout_s = options.master_timeout_s;
  dist::LocustWorker worker(coordinator, std::move(worker_options));
  std::string error;
  if (!worker.connect(&error)) {
    std::fprintf(stderr, "cicada run: %s\n", error.c_str());
    return 2;
  }
  const int exit_code = coordinator.run();
  return worker.failure_exit_code() != 0 ? worker.failure_exit_code() : exit_code;
}

// `--master`: the users run on the workers that connect (docs/distributed.md); the front-ends
// (terminal, web UI) drive the run as a local one.
bool attach_master(runner::Coordinator& coordinator, std::string* error) {
  const config::RunOptions& options = coordinator.options();
  if (options.master_bind_port < 1 || options.master_bind_port > 65535) {
    *error = "--master-bind-port must be 1..65535, got " + std::to_string(options.master_bind_port);
    return false;
  }
  dist::MasterOptions master_options;
  master_options.bind_host = options.master_bind_host;
  master_options.bind_port = options.master_bind_port;
  master_options.expect_workers = std::max(1, options.expect_workers);
  master_options.expect_workers_max_wait_s = options.expect_workers_max_wait_s;
  master_options.stop_timeout_s = options.stop_timeout_s;
  master_options.host = options.host;
  // Bound before the run starts, so that a taken port is a clear error at once.
  auto master = std::make_unique<dist::LocustMaster>(coordinator.loop(), master_options);
  if (!master->bind(error)) return false;
  coordinator.run_users_remotely(std::move(master));
  return true;
}

// One test, with its front-ends; `new_test` is set when the web UI asked for another one.
int run_test(ResolvedCommand command, std::optional<web::NewTest>* new_test, int local_workers) {
  runner::Coordinator coordinator(std::move(command));
  const int early_exit = coordinator.prepare();
  if (early_exit >= 0) return early_exit;
  const config::RunOptions& options = coordinator.options();
  if (options.worker) return run_worker(coordinator);
  std::string master_error;
  if (options.master && !attach_master(coordinator, &master_error)) {
    std::fprintf(stderr, "cicada run: %s\n", master_error.c_str());
    return 2;
  }
  // --processes: this master's own workers, once it listens.
  LocalWorkers workers;
  if (local_workers > 0 && !workers.start(options, local_workers, options.master_bind_port, &master_error)) {
    std::fprintf(stderr, "cicada run: %s\n", master_error.c_str());
    return 2;
  }

  // Which front-ends run (docs/web-ui.md): the web UI when asked for, or when a terminal runs
  // a script without a load (as `locust -f` does); a headless run may still serve /metrics.
  // A person at a terminal (stdout may go to a pipe, `| tee`); CI gives no terminal.
  const bool from_terminal = isatty(STDIN_FILENO);
  const bool web_asked = options.web || options.web_given || options.autostart;
  const bool ui = !options.headless && (web_asked || (!coordinator.load_given() && from_terminal));
  if (!ui && !options.headless && !coordinator.load_given() && !options.metrics) {
    std::fprintf(stderr,
                 "cicada run: no load given: pass -u USERS (or --arrival-rate, -i, -t, a load shape) to run "
                 "headless, or --web to start the test from a browser\n");
    return 2;
  }
  const bool serve = ui || options.metrics || (options.headless && options.web_given);
  // The UI waits for a start unless a load (or --autostart) says what to run.
  const bool start_now = !ui || options.autostart || coordinator.load_given();

  std::unique_ptr<web::WebFrontEnd> web_ui;
  if (serve) {
    web::WebOptions web_options;
    if (!web_options_from(options, ui, &web_options)) return 2;
    web_ui = std::make_unique<web::WebFrontEnd>(coordinator, std::move(web_options));
    std::string listen_error;
    if (!web_ui->listen(&listen_error)) {
      std::fprintf(stderr, "cicada run: the web UI cannot start: %s\n", listen_error.c_str());
      return 2;
    }
    // The address on stdout too, for people and scripts (port 0 picks one); --json keeps
    // stdout for the summary.
    if (!options.json) {
      std::printf("Web UI: %s\n", web_ui->url().c_str());
      std::fflush(stdout);
    }
  }
  TerminalFrontEnd terminal(coordinator);
  // A new test asked for in the previous process's UI starts with that form's load; a headless
  // run with the options' load as soon as the workers are ready.
  if (!(web_ui && web_ui->start_from_inherited_form()) && start_now) coordinator.start(control::LoadRequest{});
  const int exit_code = coordinator.run();
  if (web_ui) *new_test = web_ui->take_new_test();
  // The master told them to quit; they write their reports and leave.
  workers.wait(30);
  return exit_code;
}

// `--worker --processes N`: only the N workers, of the master the options name.
int run_local_workers_only(const config::RunOptions& options, int count) {
  LocalWorkers workers;
  std::string error;
  if (!workers.start(options, count, options.master_port, &error)) {
    std::fprintf(stderr, "cicada run: %s\n", error.c_str());
    return 2;
  }
  // Ctrl-C reaches the whole process group; a SIGTERM to this process is passed on.
  static LocalWorkers* running = nullptr;
  running = &workers;
  struct sigaction forward {};
  forward.sa_handler = [](int signum) {
    if (running) running->signal_all(signum);
  };
  sigaction(SIGTERM, &forward, nullptr);
  sigaction(SIGINT, &forward, nullptr);
  const int worst = workers.wait(1e9);
  running = nullptr;
  return worst;
}

}  // namespace

int run_main(int argc, char** argv) {
  ResolvedCommand command;
  std::string error;
  if (!config::resolve_command(argc, argv, environ, &read_file, &command, &error)) {
    std::fprintf(stderr, "cicada run: %s\n", error.c_str());
    return 2;
  }
  if (command.help) {
    std::fputs(config::run_usage().c_str(), stdout);
    return 0;
  }
  // --processes (Locust's): this command is a master with N local workers, or only N workers.
  const int local_workers = LocalWorkers::count_for(command.options);
  if (local_workers > 0 && command.options.worker) return run_local_workers_only(command.options, local_workers);
  if (local_workers > 0) {
    command.cli_layer.push_back({"master", "true", "--processes"});
    if (command.options.expect_workers < local_workers)
      command.cli_layer.push_back({"expect-workers", std::to_string(local_workers), "--processes"});
    if (!config::apply_script_layer(command, {}, &command.options, &error)) {
      std::fprintf(stderr, "cicada run: %s\n", error.c_str());
      return 2;
    }
  }
  std::optional<web::NewTest> new_test;
  const int exit_code = run_test(std::move(command), &new_test, local_workers);
  if (new_test) start_again_for_new_test(argc, argv, *new_test);
  return exit_code;
}

int options_main(int argc, char** argv) {
  const bool markdown = argc > 1 && std::string_view(argv[1]) == "--markdown";
  if (argc > 2 || (argc == 2 && !markdown)) {
    std::fprintf(stderr, "usage: cicada options [--markdown]\n");
    return 2;
  }
  if (markdown) {
    std::fputs(config::options_markdown().c_str(), stdout);
    return 0;
  }
  std::printf("%-26s %-30s %-22s %s\n", "option", "environment", "cicada.options{}", "default");
  for (const config::OptionSpec& spec : config::option_table()) {
    std::string flag = std::string("--") + spec.name;
    if (spec.short_flag) flag = std::string("-") + spec.short_flag + ", " + flag;
    std::string default_text = spec.default_doc;
    std::erase(default_text, '`');  // Markdown's code marks, for the docs
    std::printf("%-26s %-30s %-22s %s\n", flag.c_str(), config::environment_name(spec).c_str(),
                spec.script_may_set ? config::script_key(spec).c_str() : "-", default_text.c_str());
  }
  return 0;
}

}  // namespace cicada::cli
