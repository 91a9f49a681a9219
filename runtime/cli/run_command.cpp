#include "runtime/cli/run_command.h"

#include <cstdio>

#include "runtime/cli/options.h"
#include "runtime/runner/coordinator.h"

namespace cicada::cli {

int run_main(int argc, char** argv) {
  ParsedRunOptions parsed = parse_run_options(argc, argv);
  if (parsed.help) {
    std::fputs(run_usage().c_str(), stdout);
    return 0;
  }
  if (!parsed.options) {
    std::fprintf(stderr, "cicada run: %s\n", parsed.error.c_str());
    return 2;
  }
  runner::Coordinator coordinator(std::move(*parsed.options));
  return coordinator.run();
}

}  // namespace cicada::cli
