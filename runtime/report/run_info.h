#pragma once
// What a run was: the metadata every file report carries next to the numbers.
#include <cstdint>
#include <string>
#include <utility>
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

  // The load model (docs/load-models.md).
  std::string load_shape;                   // where cicada.shape / cicada.stages was declared; empty: none
  std::int64_t iterations_per_user = -1;    // -1: none given
  bool open_model = false;
  double arrival_rate = 0;                  // --arrival-rate; with rate stages, the rate they start from
  std::vector<std::pair<double, double>> rate_stages;  // (duration s, rate per second)
  int max_users = 0;                        // the pool's limit (open model)
  double max_queue_time_s = 0;
  // The open model's outcome: the schedule ran for `arrivals_duration_s` and asked for
  // `iterations_due` iterations in that time (the stats count how many started and dropped).
  double arrivals_duration_s = 0;
  std::uint64_t iterations_due = 0;

  // Iterations started per second over the schedule's time (open model; 0 when it never ran).
  double achieved_rate(std::uint64_t started) const {
    return arrivals_duration_s > 0 ? static_cast<double>(started) / arrivals_duration_s : 0.0;
  }
  // "500/s", or "stages from 0/s to 100/s" for rate stages.
  std::string arrival_rate_text() const;
};

// "2026-11-23T15:21:03Z"; empty for 0.
std::string iso8601_utc(double unix_s);
// argv as a shell would take it back: words with spaces or quotes are single-quoted.
std::string shell_command(const std::vector<std::string>& argv);

}  // namespace cicada::report
