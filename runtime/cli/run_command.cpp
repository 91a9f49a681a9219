#include "runtime/cli/run_command.h"

#include <cstdio>

namespace cicada::cli {

int run_main(int, char**) {
  std::fprintf(stderr, "cicada run: not built yet\n");
  return 2;
}

}  // namespace cicada::cli
