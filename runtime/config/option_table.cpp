#include "runtime/config/option_table.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace cicada::config {

namespace {

using R = RunOptions;

// The order is the order of `cicada run --help` and of docs/cli.md, section by section.
constexpr OptionSpec kOptions[] = {
    {"locustfile", 'f', Kind::Text, &R::script, "SCRIPT", "the scenario script (instead of the first argument)",
     "the scenario (or give it as the first argument, `SCRIPT`)", "required", Section::Run, false, "script"},
    {"host", 'H', Kind::Text, &R::host, "URL",
     "base URL, e.g. http://127.0.0.1:8080 (default: the class's host)",
     "base URL for every class (overrides the classes' `host`)", "each class's `host`", Section::Run, true, nullptr},
    {"users", 'u', Kind::Count, &R::users, "N", "number of concurrent users (default 1)",
     "concurrent users; in the open model, the users started before the first iteration",
     "1; open model: the rate / 10", Section::Run, true, nullptr},
    {"spawn-rate", 'r', Kind::Positive, &R::spawn_rate, "N", "users started per second (default 1)",
     "users started (or stopped) per second (fractions allowed)", "1", Section::Run, true, nullptr},
    {"run-time", 't', Kind::PositiveDuration, &R::run_time_s, "TIME",
     "stop after TIME: 30s, 5m, 1h30m (default: until Ctrl-C)",
     "stop after `30s`, `5m`, `1h30m`, `90` (seconds), `250ms`", "run until Ctrl-C", Section::Run, true, nullptr},
    {"iterations", 'i', Kind::Iterations, &R::iterations, "N", "stop after N task runs in total",
     "stop after exactly N task runs in total, across all users and threads", "unlimited", Section::Run, true,
     nullptr},
    {"iterations-per-user", 0, Kind::Iterations, &R::iterations_per_user, "N",
     "each user ends after N task runs; the test ends when all have",
     "each user ends (its `on_stop` runs) after N task runs; the test ends when all have", "unlimited",
     Section::Run, true, nullptr},
    {"tags", 'T', Kind::TagList, &R::tags, "TAG[,TAG]", "run only tasks with one of these tags (repeatable)",
     nullptr, "all tasks", Section::Run, true, nullptr},
    {"exclude-tags", 'E', Kind::TagList, &R::exclude_tags, "TAG[,..]",
     "leave out tasks with one of these tags (wins over -T)",
     "leave out tasks with one of these tags; wins over `-T`", "none", Section::Run, true, nullptr},
    {"stop-timeout", 0, Kind::Duration, &R::stop_timeout_s, "TIME",
     "let running tasks finish for up to TIME when users stop",
     "when users stop, let a running task finish for up to TIME", "0: interrupt", Section::Run, true, nullptr},
    {"reset-stats", 0, Kind::Flag, &R::reset_stats, "", "forget the stats of the ramp-up once all users are spawned",
     "once all users are spawned, forget the requests and failures recorded so far (exceptions stay)", "off",
     Section::Run, false, nullptr},
    {"insecure", 0, Kind::Flag, &R::insecure, "", "do not verify TLS certificates (self-signed test servers)",
     "do not verify TLS certificates (self-signed test servers); a request or class `verify` setting still wins",
     "verify", Section::Run, false, nullptr},
    {"max-body-memory", 0, Kind::Count, &R::max_body_memory_mib, "MIB",
     "response bodies held in memory by all users together (default 512)",
     "response bodies held in memory by all users together, beyond the first 256 KiB of each; past it, large "
     "bodies are counted and discarded (`res.body` empty, `res.body_discarded` true) unless the request sets its "
     "own `max_body`; `0`: no budget (see [http.md](http.md#bodies-and-memory))",
     "512", Section::Run, true, nullptr},
    {"threads", 0, Kind::Threads, &R::threads, "N", "worker threads (default: one per core)",
     "worker threads, each with its own event loop and Lua state", "one per core", Section::Run, true, nullptr},
    {"exit-code-on-error", 0, Kind::ExitCode, &R::exit_code_on_error, "N",
     "exit code when any request failed or a task raised (default 1)",
     "exit code when a request failed or a task raised", "1", Section::Run, true, nullptr},
    {"config", 0, Kind::ConfigFile, std::monostate{}, "FILE",
     "read options from FILE (default: ./cicada.conf if present)", "read options from FILE (also `CICADA_CONFIG`)",
     "`./cicada.conf` if it exists", Section::Run, false, nullptr},
    {"list", 'l', Kind::Flag, &R::list_classes, "", "print the user classes and exit",
     "print the runnable user classes and exit", "", Section::Run, false, nullptr},
    {"show-task-ratio", 0, Kind::Flag, &R::show_task_ratio, "", "print each class's task ratios and exit",
     "print each class's task ratios (and of the whole mix for `-u` users) and exit", "", Section::Run, false,
     nullptr},
    {"headless", 0, Kind::Flag, &R::headless, "", "no web UI: start the test with the options' load at once",
     "no web UI: the test starts at once with the options' load (`-u`, `--arrival-rate`, a shape), as "
     "without any web option; `--web-port` or `--metrics` still serve `/metrics` and the API while it runs",
     "off", Section::Run, false, nullptr},

    {"arrival-rate", 0, Kind::Rate, &R::arrival_rate, "RATE",
     "start task iterations at RATE (500/s, 30/m) whatever the response\n"
     "times; response times count from each iteration's scheduled start",
     "the open model: start task iterations at RATE (`500/s`, `500`, `30000/m`, `10/100ms`) whatever the "
     "response times; see [load-models.md](load-models.md)",
     "closed model", Section::OpenModel, true, nullptr},
    {"max-users", 0, Kind::Count, &R::max_users, "N",
     "the pool of users serving iterations may grow to N (default: -u;\n"
     "-u defaults to the rate / 10 in the open model)",
     "open model: the pool of users may grow to N when no user is free", "`-u`", Section::OpenModel, true, nullptr},
    {"max-queue-time", 0, Kind::Duration, &R::max_queue_time_s, "TIME",
     "an iteration waits this long for a free user, then is dropped\n"
     "(default 10s; 0 drops at once, as k6 does)",
     "open model: how long a due iteration may wait for a free user before it is dropped (`0`: at once, as k6)",
     "`10s`", Section::OpenModel, true, nullptr},

    {"csv", 0, Kind::Text, &R::csv_prefix, "PREFIX",
     "Locust's CSV files: PREFIX_stats.csv, PREFIX_stats_history.csv,\n"
     "PREFIX_failures.csv, PREFIX_exceptions.csv, kept current while running",
     "Locust's CSV files `PREFIX_stats.csv`, `_stats_history.csv`, `_failures.csv`, `_exceptions.csv`, kept "
     "current while running",
     "none", Section::Reports, false, nullptr},
    {"csv-full-history", 0, Kind::Flag, &R::csv_full_history, "",
     "every entry in PREFIX_stats_history.csv, not only Aggregated",
     "every entry in `PREFIX_stats_history.csv`, not only `Aggregated`", "off", Section::Reports, false, nullptr},
    {"html", 0, Kind::Text, &R::html_file, "FILE",
     "a self-contained HTML report with charts ({u} {r} {t}: users,\nspawn rate, run time)",
     "a self-contained HTML report with charts; `{u}` `{r}` `{t}` in FILE become users, spawn rate, run time",
     "none", Section::Reports, false, nullptr},
    {"json", 0, Kind::Flag, &R::json, "", "the JSON summary to stdout (the tables then go to stderr)",
     "the JSON summary on stdout; the console tables go to stderr", "off", Section::Reports, false, nullptr},
    {"json-file", 0, Kind::Text, &R::json_file, "FILE", "the JSON summary to FILE", nullptr, "none",
     Section::Reports, false, nullptr},
    {"junit", 0, Kind::Text, &R::junit_file, "FILE", "JUnit XML, one test case per threshold", nullptr, "none",
     Section::Reports, false, nullptr},
    {"print-stats", 0, Kind::Flag, &R::print_stats, "", "print the stats table every 2 seconds (the default)",
     "the stats table every 2 seconds (what cicada does anyway)", "on", Section::Reports, false, nullptr},
    {"only-summary", 0, Kind::Flag, &R::only_summary, "", "print only the final report",
     "no periodic stats table, only the final report", "off", Section::Reports, false, nullptr},
    {"web", 0, Kind::Flag, &R::web, "", "serve the web UI (and the API, /metrics); with a load, start at once",
     "serve the web UI, Locust's HTTP API and `/metrics` ([web-ui.md](web-ui.md)); with a load given (`-u`, "
     "`--arrival-rate`, a shape) the test starts at once, without one it waits for a start from the page or "
     "the API", "off; on when `cicada run` has no load and a terminal", Section::Web, false, nullptr},
    {"web-host", 0, Kind::Text, &R::web_host, "HOST", "the web UI's address (default 127.0.0.1; implies --web)",
     "the address the web UI listens on; another than loopback without `--web-auth` prints a warning "
     "(implies `--web`)", "`127.0.0.1`", Section::Web, false, nullptr},
    {"web-port", 'P', Kind::Count, &R::web_port, "PORT", "the web UI's port (default 8089, 0: any free; implies --web)",
     "the web UI's port; `0` takes any free port (the URL is printed) (implies `--web`)", "8089", Section::Web,
     false, nullptr},
    {"web-auth", 0, Kind::Text, &R::web_auth, "USER:PASS", "HTTP basic authentication for the web UI",
     "`user:password`: HTTP basic authentication on every route of the web UI (implies `--web`)", "none",
     Section::Web, false, nullptr},
    {"autostart", 0, Kind::Flag, &R::autostart, "", "with the web UI, start the test at once (Locust's flag)",
     "start the test at once with the options' load, with the web UI up (implies `--web`)", "off", Section::Web,
     false, nullptr},
    {"autoquit", 0, Kind::Duration, &R::autoquit_s, "TIME", "with the web UI, exit TIME after the test ends",
     "with the web UI, exit this long after the test ended (`0`: at once); without it the UI stays up until "
     "Ctrl-C", "stay up", Section::Web, false, nullptr},
    {"metrics", 0, Kind::Flag, &R::metrics, "", "serve /metrics (and the API) on --web-port during a headless run",
     "serve Prometheus' `/metrics` and the API on `--web-host`:`--web-port` while the test runs, without "
     "waiting for a start; the process ends with the test", "off", Section::Web, false, nullptr},
    {"worker", 0, Kind::Flag, &R::worker, "", "run as a worker of a Locust (or cicada) master",
     "join a master as one of its workers, over Locust's protocol ([distributed.md](distributed.md)): the master "
     "says how many users of each class to run, and gets the stats; load options (`-u`, `-r`, `-t`) are the "
     "master's", "off", Section::Distributed, false, nullptr},
    {"master-host", 0, Kind::Text, &R::master_host, "HOST", "the master a worker connects to (default 127.0.0.1)",
     "the master's address, for `--worker`", "`127.0.0.1`", Section::Distributed, false, nullptr},
    {"master-port", 0, Kind::Count, &R::master_port, "PORT", "the master's port (default 5557)",
     "the master's port, for `--worker`", "5557", Section::Distributed, false, nullptr},
    {"master-timeout", 0, Kind::PositiveDuration, &R::master_timeout_s, "TIME",
     "a worker quits after TIME without its master's heartbeat (default 60s)",
     "a worker whose master sends heartbeats (cicada's, Locust 2.19+) stops its users and exits after this long "
     "without one", "60s", Section::Distributed, false, nullptr},
    {"master", 0, Kind::Flag, &R::master, "", "run as a master: the users run on --worker processes",
     "be the master of a distributed run: the users run on workers (`cicada run SCRIPT --worker`, or Locust's "
     "with the same class names) that connect to it; the load options, reports and web UI are the master's",
     "off", Section::Distributed, false, nullptr},
    {"master-bind-host", 0, Kind::Text, &R::master_bind_host, "HOST",
     "the address a master listens on for workers (default *: every address)",
     "the address the master listens on for workers (`*`: every address, as Locust)", "`*`", Section::Distributed,
     false, nullptr},
    {"master-bind-port", 0, Kind::Count, &R::master_bind_port, "PORT", "the master's port for workers (default 5557)",
     "the port the master listens on for workers", "5557", Section::Distributed, false, nullptr},
    {"expect-workers", 0, Kind::Count, &R::expect_workers, "N", "a master starts the test once N workers are connected",
     "the master starts the test once this many workers are connected", "1", Section::Distributed, false, nullptr},
    {"expect-workers-max-wait", 0, Kind::Duration, &R::expect_workers_max_wait_s, "TIME",
     "how long a master waits for --expect-workers (default: for ever)",
     "how long the master waits for `--expect-workers`; past it the run ends with exit code 2", "wait for ever",
     Section::Distributed, false, nullptr},
    {"processes", 0, Kind::Processes, &R::processes, "N",
     "a master and N local workers in one command (-1: one per core)",
     "start N local worker processes and be their master (Locust's flag; `-1`: one per core); with "
     "`--worker`, only the N workers", "off", Section::Distributed, false, nullptr},

    {"threshold", 0, Kind::ThresholdList, &R::thresholds, "EXPR",
     "fail the run (exit code 3) unless EXPR holds, e.g. 'p95<100ms',\n"
     "'GET /items p99<200ms', 'error_rate<1%'; add 'abort_on_fail' (and\n"
     "'delay=10s') to stop the test once it is surely broken (repeatable)",
     "a pass/fail criterion like `'p95<100ms'` or `'GET /items p99<200ms abort_on_fail'` (repeatable; several "
     "in one variable or config line separated by `;`)",
     "the script's `cicada.thresholds{}`", Section::Reports, false, nullptr},
};

// The column where the help text starts in `cicada run --help`.
constexpr std::size_t kHelpColumn = 30;

std::string flag_text(const OptionSpec& spec, bool markdown) {
  std::string text;
  if (spec.short_flag) {
    text += '-';
    text += spec.short_flag;
    text += markdown ? "/" : ", ";
  } else if (!markdown) {
    text += "    ";
  }
  text += "--";
  text += spec.name;
  if (*spec.value_name) {
    text += ' ';
    text += spec.value_name;
  }
  return text;
}

void append_usage_row(std::string& out, const std::string& flags, std::string_view help) {
  std::string line = "  " + flags;
  line.append(line.size() < kHelpColumn ? kHelpColumn - line.size() : 1, ' ');
  bool first = true;
  while (true) {
    const std::size_t newline = help.find('\n');
    out += first ? line : std::string(kHelpColumn, ' ');
    out += help.substr(0, newline);
    out += '\n';
    first = false;
    if (newline == std::string_view::npos) break;
    help.remove_prefix(newline + 1);
  }
}

void append_section(std::string& out, Section section) {
  for (const OptionSpec& spec : kOptions)
    if (spec.section == section) append_usage_row(out, flag_text(spec, false), spec.help);
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::span<const OptionSpec> option_table() { return kOptions; }

std::string canonical_option_name(std::string_view name) {
  std::string out(name);
  for (char& c : out) c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

const OptionSpec* find_option(std::string_view canonical_name) {
  for (const OptionSpec& spec : kOptions)
    if (canonical_name == spec.name || (spec.alias && canonical_name == spec.alias)) return &spec;
  return nullptr;
}

const OptionSpec* find_short_option(char flag) {
  for (const OptionSpec& spec : kOptions)
    if (spec.short_flag == flag) return &spec;
  return nullptr;
}

std::string did_you_mean(std::string_view canonical_name, std::string_view prefix) {
  const OptionSpec* closest = nullptr;
  std::size_t best = 3;  // at most two edits away
  for (const OptionSpec& spec : kOptions) {
    const std::size_t distance = edit_distance(canonical_name, spec.name);
    if (distance < best) best = distance, closest = &spec;
  }
  if (!closest) return "";
  const std::string name = prefix == "CICADA_" ? environment_name(*closest) : std::string(prefix) + closest->name;
  return " (did you mean " + name + "?)";
}

std::string environment_name(const OptionSpec& spec) {
  std::string name = "CICADA_";
  for (const char* c = spec.name; *c; ++c)
    name += *c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(*c)));
  return name;
}

std::string script_key(const OptionSpec& spec) {
  std::string key = spec.name;
  std::replace(key.begin(), key.end(), '-', '_');
  return key;
}

const char* script_type(const OptionSpec& spec) {
  switch (spec.kind) {
    case Kind::Text: return "string";
    case Kind::Count:
    case Kind::Positive:
    case Kind::Iterations:
    case Kind::Threads:
    case Kind::Processes:
    case Kind::ExitCode: return "number";
    case Kind::Duration:
    case Kind::PositiveDuration: return "duration";
    case Kind::Rate: return "rate";
    case Kind::TagList: return "table";
    case Kind::Flag: return "boolean";
    case Kind::ThresholdList:
    case Kind::ConfigFile: return "string";
  }
  return "string";
}

const char* value_description(Kind kind) {
  switch (kind) {
    case Kind::Text: return "a value";
    case Kind::Count: return "a whole number >= 0";
    case Kind::Positive: return "a number > 0";
    case Kind::Duration: return "a duration like 10s or 0";
    case Kind::PositiveDuration: return "a duration like 30s, 5m or 1h30m";
    case Kind::Iterations: return "a whole number >= 1";
    case Kind::Threads: return "a whole number between 1 and 1024";
    case Kind::Processes: return "a whole number between 1 and 1024, or -1";
    case Kind::ExitCode: return "a number between 0 and 255";
    case Kind::TagList: return "tag names";
    case Kind::Flag: return "true or false";
    case Kind::ThresholdList: return "a threshold like 'p95<100ms' or 'GET /items p99<200ms'";
    case Kind::Rate: return "a rate > 0 like 500/s, 30/m or 500";
    case Kind::ConfigFile: return "a file name";
  }
  return "a value";
}

std::string run_usage() {
  std::string out =
      "usage: cicada run SCRIPT [USERCLASS ...] [options]\n"
      "\n"
      "Runs the user classes of SCRIPT (all classes with weight > 0 unless some are named).\n"
      "\n";
  append_section(out, Section::Run);
  out += "\nThe open model (see docs/load-models.md):\n";
  append_section(out, Section::OpenModel);
  out += "\nReports and thresholds (see docs/reports.md):\n";
  append_section(out, Section::Reports);
  out += "\nThe web UI, its API and /metrics (see docs/web-ui.md):\n";
  append_section(out, Section::Web);
  out += "\nDistributed runs on Locust's master/worker protocol (see docs/distributed.md):\n";
  append_section(out, Section::Distributed);
  append_usage_row(out, "-h, --help", "this help");
  out +=
      "\n"
      "While a test runs in a terminal, w/W add 1 or 10 users and s/S remove 1 or 10 (as in Locust).\n"
      "\n"
      "Options also come from cicada.options{} in the script, the config file and CICADA_*\n"
      "variables (CICADA_USERS=10); the command line wins over the environment, which wins over\n"
      "the file, which wins over the script. `cicada options` lists where each can be set.\n"
      "\n"
      "Exit codes: 0 no failures, 1 failures or exceptions, 2 usage or script error,\n"
      "3 a threshold failed (wins over 1).\n";
  return out;
}

std::string options_markdown() {
  std::string out =
      "| option | meaning | default | environment | `cicada.options{}` |\n"
      "| --- | --- | --- | --- | --- |\n";
  bool first = true;
  for (const OptionSpec& spec : kOptions) {
    std::string meaning = spec.doc ? spec.doc : spec.help;
    std::replace(meaning.begin(), meaning.end(), '\n', ' ');
    out += "| `" + flag_text(spec, true) + "` | " + meaning + " | " + spec.default_doc + " | `" +
           environment_name(spec) + "` | " + (spec.script_may_set ? "`" + script_key(spec) + "`" : "") + " |\n";
    if (first) {
      out +=
          "| `USERCLASS ...` | run only these classes (weight-0 classes run only when named) | all classes with "
          "weight > 0 | | |\n";
      first = false;
    }
  }
  return out;
}

}  // namespace cicada::config
