#pragma once
// `cicada run` options, with Locust's flag names.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cicada::cli {

struct RunOptions {
  std::string script;
  std::vector<std::string> user_classes;  // empty: all classes with weight > 0
  std::string host;                       // -H; empty: each class's own host
  int users = 1;
  double spawn_rate = 1;
  double run_time_s = 0;  // 0: until interrupted or out of iterations
  int threads = 0;        // 0: one per available core
  std::int64_t iterations = -1;  // -1: unlimited
  int exit_code_on_error = 1;
  double on_stop_grace_s = 10;  // how long on_stop handlers may run when the test stops
};

struct ParsedRunOptions {
  std::optional<RunOptions> options;  // set when parsing succeeded
  std::string error;                  // set when it failed
  bool help = false;                  // --help was asked
};

// argv[0] is the subcommand ("run") or the program name.
ParsedRunOptions parse_run_options(int argc, const char* const* argv);
std::string run_usage();

// "30s", "5m", "1h30m", "2h", "90" (seconds), "1.5s", "250ms". nullopt when malformed.
std::optional<double> parse_duration(std::string_view text);

}  // namespace cicada::cli
