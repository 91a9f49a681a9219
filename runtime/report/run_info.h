#pragma once
// What a run was: the metadata every file report carries next to the numbers.
#include <cstdint>
#include <string>
#include <vector>

namespace cicada::report {

struct RunInfo {
  std::string script;
  std::string host;                         // -H, or the first class's host
  std::vector<std::string> command_line;    // argv, from the program name on
  std::vector<std::string> user_classes;    // the classes that ran
  int users = 0;
  double spawn_rate = 0;
  double run_time_s = 0;                    // 0: none given
  std::int64_t iterations = -1;             // -1: none given
  int threads = 0;
  double start_unix_s = 0;                  // wall clock; 0 when the test never started
  double end_unix_s = 0;
  double duration_s = 0;                    // what rates are computed over
  std::string stop_reason;
  int exit_code = 0;
};

// "2026-11-23T15:21:03Z"; empty for 0.
std::string iso8601_utc(double unix_s);
// argv as a shell would take it back: words with spaces or quotes are single-quoted.
std::string shell_command(const std::vector<std::string>& argv);

}  // namespace cicada::report
