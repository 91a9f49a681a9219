#pragma once
// `cicada run` options, with Locust's flag names, from four layers of increasing precedence:
// the script's cicada.options{...}, a config file (./cicada.conf or --config FILE), CICADA_*
// environment variables, and the command line. Every layer is read as (name, text) pairs and
// goes through the same validation, so a bad value names where it came from.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/report/thresholds.h"

namespace cicada::cli {

struct RunOptions {
  std::string script;
  std::vector<std::string> user_classes;  // empty: all classes with weight > 0
  std::string host;                       // -H; empty: each class's own host
  int users = 1;
  bool users_given = false;  // -u was set in some layer (the open model sizes its pool otherwise)
  double spawn_rate = 1;
  double run_time_s = 0;  // 0: until interrupted or out of iterations
  int threads = 0;        // 0: one per available core
  std::int64_t iterations = -1;  // -1: unlimited
  std::int64_t iterations_per_user = -1;  // -1: unlimited; a user ends after this many task runs
  // The open model (docs/load-models.md): task iterations started at this many per second,
  // whatever the response times; 0 = the closed model (users loop on their tasks).
  double arrival_rate = 0;
  int max_users = 0;              // open model: the pool may grow to this many users; 0 = -u
  double max_queue_time_s = 10;   // open model: how late an iteration may start before it is dropped
  std::vector<std::string> tags;          // -T: only tasks with one of these tags
  std::vector<std::string> exclude_tags;  // -E: no task with one of these tags (wins over -T)
  double stop_timeout_s = 0;              // time for running tasks to finish when users stop
  int exit_code_on_error = 1;
  double on_stop_grace_s = 10;  // how long on_stop handlers may run when the test stops
  bool list_classes = false;     // -l: print the user classes and exit
  bool show_task_ratio = false;  // --show-task-ratio: print the task ratios and exit
  bool reset_stats = false;      // --reset-stats: forget the ramp-up once all users are spawned
  bool insecure = false;         // --insecure: no TLS certificate verification by default
  // Response bodies held in memory by every user together, in MiB (runtime/http/body_budget.h).
  int max_body_memory_mib = 512;

  // Reports (docs/reports.md).
  std::string csv_prefix;         // --csv PREFIX: PREFIX_stats.csv and the other Locust files
  bool csv_full_history = false;  // --csv-full-history: every entry in PREFIX_stats_history.csv
  std::string html_file;          // --html FILE, with Locust's {u} {r} {t} placeholders
  bool json = false;              // --json: the JSON summary to stdout (the tables go to stderr)
  std::string json_file;          // --json-file FILE
  std::string junit_file;         // --junit FILE: one test case per threshold
  bool print_stats = false;       // --print-stats: the periodic table (cicada prints it anyway)
  bool only_summary = false;      // --only-summary: no periodic table, only the final report
  // --threshold, repeatable; a layer's threshold replaces a lower layer's on the same metric.
  std::vector<report::Threshold> thresholds;
};

// One option as written in some layer: canonical long name ("spawn-rate") and its text.
struct RawOption {
  std::string name;
  std::string value;
  std::string source;  // "command line", "CICADA_USERS", "cicada.conf:3", "cicada.options{}"
};

struct CommandLine {
  std::vector<RawOption> options;
  std::vector<std::string> positional;
  std::string config_file;  // --config
  bool help = false;
};

// argv[0] is the subcommand ("run") or the program name. On failure returns false and sets `error`.
bool parse_command_line(int argc, const char* const* argv, CommandLine* out, std::string* error);
// "key = value" lines; '#' and ';' start comments; a "[cicada]" section line is allowed.
bool parse_config_text(std::string_view text, const std::string& file_name, std::vector<RawOption>* out,
                       std::string* error);
// CICADA_USERS=10 and the like, from an environ-style array; unknown CICADA_* names are ignored.
std::vector<RawOption> options_from_environment(const char* const* environ);

// Applies `layer` on top of `options`. List options (tags) given several times within one
// layer add up; a later layer replaces them.
bool apply_options(RunOptions* options, const std::vector<RawOption>& layer, std::string* error);

// Everything but the script's own options: defaults < config file < environment < command
// line, plus the script and user classes. `file_reader` returns nullopt for a missing file.
struct ResolvedCommand {
  RunOptions options;
  std::vector<std::string> argv;  // the command line as given, for the reports
  std::vector<RawOption> file_layer, env_layer, cli_layer;
  bool help = false;
};
bool resolve_command(int argc, const char* const* argv, const char* const* environ,
                     std::optional<std::string> (*file_reader)(const std::string& path), ResolvedCommand* out,
                     std::string* error);
// Re-resolves with the script's cicada.options{} as the lowest layer.
bool apply_script_layer(const ResolvedCommand& command, const std::vector<RawOption>& script_layer,
                        RunOptions* options, std::string* error);

std::string run_usage();

// "spawn_rate", "Spawn-Rate" -> "spawn-rate": how option names from any layer are compared.
std::string canonical_option_name(std::string_view name);

// "30s", "5m", "1h30m", "2h", "90" (seconds), "1.5s", "250ms". nullopt when malformed.
std::optional<double> parse_duration(std::string_view text);
// An arrival rate, per second: "500/s", "500" (per second), "30/m", "2/h", "10/100ms". nullopt
// when malformed; 0 is allowed (a ramp may start or end there).
std::optional<double> parse_rate(std::string_view text);

}  // namespace cicada::cli
