#pragma once
// The options of one run, resolved from every layer (runtime/config/option_layers.h). Each field
// is set through its row of the option table (runtime/config/option_table.cpp), never by name.
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/report/thresholds.h"

namespace cicada::config {

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
  // The web UI (docs/web-ui.md).
  bool headless = false;      // --headless: never the UI
  bool web = false;           // --web
  bool web_given = false;     // --web, --web-host, --web-port or --web-auth was set in some layer
  std::string web_host = "127.0.0.1";
  int web_port = 8089;        // 0: any free port
  std::string web_auth;       // "user:password"; empty: none
  bool autostart = false;
  double autoquit_s = -1;     // -1: stay up until interrupted
  bool metrics = false;       // --metrics: /metrics and the API during a headless run
  // Distributed runs (docs/distributed.md).
  bool worker = false;        // --worker: a worker of a Locust or cicada master
  std::string master_host = "127.0.0.1";
  int master_port = 5557;
  double master_timeout_s = 60;  // a worker without its master's heartbeat this long quits
  bool master = false;        // --master: the users run on workers that connect
  std::string master_bind_host = "*";
  int master_bind_port = 5557;
  int expect_workers = 1;
  double expect_workers_max_wait_s = 0;  // 0: wait for ever
  int processes = 0;          // --processes: local workers to start (-1: one per core); 0: none

  // --threshold, repeatable; a layer's threshold replaces a lower layer's on the same metric.
  std::vector<report::Threshold> thresholds;
};

}  // namespace cicada::config
