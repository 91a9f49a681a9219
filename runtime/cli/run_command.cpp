#include "runtime/cli/run_command.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string_view>

#include "runtime/cli/terminal_front_end.h"
#include "runtime/config/option_layers.h"
#include "runtime/config/option_table.h"
#include "runtime/runner/coordinator.h"

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
  TerminalFrontEnd terminal(coordinator);
  // Headless: the test starts with the load the options give as soon as the workers are ready.
  coordinator.start(control::LoadRequest{});
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
