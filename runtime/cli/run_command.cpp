#include "runtime/cli/run_command.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "runtime/cli/options.h"
#include "runtime/runner/coordinator.h"

extern char** environ;

namespace cicada::cli {

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
  if (!resolve_command(argc, argv, environ, &read_file, &command, &error)) {
    std::fprintf(stderr, "cicada run: %s\n", error.c_str());
    return 2;
  }
  if (command.help) {
    std::fputs(run_usage().c_str(), stdout);
    return 0;
  }
  runner::Coordinator coordinator(std::move(command));
  return coordinator.run();
}

}  // namespace cicada::cli
