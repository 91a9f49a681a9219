#include "runtime/cli/run_command.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string_view>

#include <unistd.h>

#include <memory>

#include "runtime/cli/terminal_front_end.h"
#include "runtime/config/option_layers.h"
#include "runtime/config/option_table.h"
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
  runner::Coordinator coordinator(std::move(command));
  const int early_exit = coordinator.prepare();
  if (early_exit >= 0) return early_exit;
  const config::RunOptions& options = coordinator.options();

  // Which front-ends run (docs/web-ui.md): the web UI when asked for, or when a terminal runs
  // a script without a load (as `locust -f` does); a headless run may still serve /metrics.
  const bool from_terminal = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
  const bool web_asked = options.web || options.web_given || options.autostart;
  bool ui = false;
  if (!options.headless && (web_asked || (!coordinator.load_given() && from_terminal))) {
    ui = true;
  } else if (!options.headless && !coordinator.load_given() && !options.metrics) {
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
    web_options.host = options.web_host;
    if (options.web_port > 65535) {
      std::fprintf(stderr, "cicada run: --web-port must be 0..65535, got %d\n", options.web_port);
      return 2;
    }
    web_options.port = static_cast<std::uint16_t>(options.web_port);
    web_options.auth = options.web_auth;
    if (!web_options.auth.empty() && web_options.auth.find(':') == std::string::npos) {
      std::fprintf(stderr, "cicada run: --web-auth takes user:password\n");
      return 2;
    }
    web_options.stay_up_after_test = ui;
    web_options.autoquit_s = options.autoquit_s;
    if (options.csv_full_history && !options.csv_prefix.empty())
      web_options.full_history_csv = options.csv_prefix + "_stats_history.csv";
    web_options.form_users = options.users;
    web_options.form_spawn_rate = options.spawn_rate;
    if (options.run_time_s > 0) web_options.form_run_time = std::to_string(static_cast<long long>(options.run_time_s)) + "s";
    web_options.form_host = options.host;
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
  // Headless: the test starts with the load the options give as soon as the workers are ready.
  if (start_now) coordinator.start(control::LoadRequest{});
  return coordinator.run();
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
