#pragma once

namespace cicada::cli {

// `cicada run ...`: argv[0] is "run" (or the program name when run without a subcommand).
int run_main(int argc, char** argv);
// `cicada options [--markdown]`: every option of `cicada run`, with its variable and script key.
int options_main(int argc, char** argv);

}  // namespace cicada::cli
