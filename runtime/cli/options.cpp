#include "runtime/cli/options.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace cicada::cli {

namespace {

enum class Kind {
  Text, Count, Positive, Duration, PositiveDuration, Iterations, Threads, ExitCode, TagList, Flag, ThresholdList, Rate
};

struct OptionSpec {
  const char* name;   // canonical long name
  char short_flag;    // 0 when none
  Kind kind;
  const char* what;   // for messages
};

constexpr OptionSpec kOptions[] = {
    {"locustfile", 'f', Kind::Text, "the scenario script"},
    {"host", 'H', Kind::Text, "a base URL"},
    {"users", 'u', Kind::Count, "a whole number >= 0"},
    {"spawn-rate", 'r', Kind::Positive, "a number > 0"},
    {"run-time", 't', Kind::PositiveDuration, "a duration like 30s, 5m or 1h30m"},
    {"iterations", 'i', Kind::Iterations, "a whole number >= 1"},
    {"iterations-per-user", 0, Kind::Iterations, "a whole number >= 1"},
    {"arrival-rate", 0, Kind::Rate, "a rate > 0 like 500/s, 30/m or 500"},
    {"max-users", 0, Kind::Count, "a whole number >= 0"},
    {"max-queue-time", 0, Kind::Duration, "a duration like 10s or 0"},
    {"threads", 0, Kind::Threads, "a whole number between 1 and 1024"},
    {"tags", 'T', Kind::TagList, "tag names"},
    {"exclude-tags", 'E', Kind::TagList, "tag names"},
    {"stop-timeout", 0, Kind::Duration, "a duration like 10s"},
    {"exit-code-on-error", 0, Kind::ExitCode, "a number between 0 and 255"},
    {"headless", 0, Kind::Flag, "true or false"},
    {"list", 'l', Kind::Flag, "true or false"},
    {"show-task-ratio", 0, Kind::Flag, "true or false"},
    {"reset-stats", 0, Kind::Flag, "true or false"},
    {"insecure", 0, Kind::Flag, "true or false"},
    {"max-body-memory", 0, Kind::Count, "a whole number of MiB >= 0 (0: no budget)"},
    {"csv", 0, Kind::Text, "a file name prefix"},
    {"csv-full-history", 0, Kind::Flag, "true or false"},
    {"html", 0, Kind::Text, "a file name"},
    {"json", 0, Kind::Flag, "true or false"},
    {"json-file", 0, Kind::Text, "a file name"},
    {"junit", 0, Kind::Text, "a file name"},
    {"print-stats", 0, Kind::Flag, "true or false"},
    {"only-summary", 0, Kind::Flag, "true or false"},
    {"threshold", 0, Kind::ThresholdList, "a threshold like 'p95<100ms' or 'GET /items p99<200ms'"},
};

std::string* text_option(RunOptions* options, std::string_view name) {
  if (name == "locustfile") return &options->script;
  if (name == "host") return &options->host;
  if (name == "csv") return &options->csv_prefix;
  if (name == "html") return &options->html_file;
  if (name == "json-file") return &options->json_file;
  if (name == "junit") return &options->junit_file;
  return nullptr;
}

int* count_option(RunOptions* options, std::string_view name) {
  if (name == "max-users") return &options->max_users;
  if (name == "max-body-memory") return &options->max_body_memory_mib;
  return &options->users;
}

double* duration_option(RunOptions* options, std::string_view name) {
  return name == "max-queue-time" ? &options->max_queue_time_s : &options->stop_timeout_s;
}

std::int64_t* iterations_option(RunOptions* options, std::string_view name) {
  return name == "iterations-per-user" ? &options->iterations_per_user : &options->iterations;
}

bool* flag_option(RunOptions* options, std::string_view name) {
  if (name == "list") return &options->list_classes;
  if (name == "show-task-ratio") return &options->show_task_ratio;
  if (name == "reset-stats") return &options->reset_stats;
  if (name == "insecure") return &options->insecure;
  if (name == "csv-full-history") return &options->csv_full_history;
  if (name == "json") return &options->json;
  if (name == "print-stats") return &options->print_stats;
  if (name == "only-summary") return &options->only_summary;
  return nullptr;  // --headless: accepted, nothing to set
}

// Several thresholds fit in one environment variable, separated by ';'.
std::vector<std::string_view> split_thresholds(std::string_view text) {
  std::vector<std::string_view> parts;
  while (true) {
    const std::size_t semicolon = text.find(';');
    const std::string_view part = text.substr(0, semicolon);
    if (part.find_first_not_of(" \t") != std::string_view::npos) parts.push_back(part);
    if (semicolon == std::string_view::npos) break;
    text.remove_prefix(semicolon + 1);
  }
  return parts;
}

const OptionSpec* find_option(std::string_view name) {
  for (const OptionSpec& spec : kOptions)
    if (name == spec.name) return &spec;
  return nullptr;
}

const OptionSpec* find_short(char flag) {
  for (const OptionSpec& spec : kOptions)
    if (spec.short_flag == flag) return &spec;
  return nullptr;
}

std::string canonical(std::string_view name) {
  std::string out(name);
  for (char& c : out) c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (out == "script") out = "locustfile";
  return out;
}

std::optional<double> parse_number(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::string copy(text);
  char* end = nullptr;
  double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<bool> parse_bool(std::string_view text) {
  std::string lower = canonical(text);
  if (lower.empty() || lower == "true" || lower == "1" || lower == "yes" || lower == "on") return true;
  if (lower == "false" || lower == "0" || lower == "no" || lower == "off") return false;
  return std::nullopt;
}

std::vector<std::string> split_tags(std::string_view text) {
  std::vector<std::string> tags;
  std::string current;
  for (char c : text) {
    if (c == ',' || std::isspace(static_cast<unsigned char>(c))) {
      if (!current.empty()) tags.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (!current.empty()) tags.push_back(std::move(current));
  return tags;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

}  // namespace

std::string canonical_option_name(std::string_view name) { return canonical(name); }

std::optional<double> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (auto plain = parse_number(text)) return *plain >= 0 ? plain : std::nullopt;
  double total = 0;
  std::size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    std::size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (i == start) return std::nullopt;
    auto number = parse_number(text.substr(start, i - start));
    if (!number) return std::nullopt;
    std::size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    double scale;
    if (unit == "h") scale = 3600;
    else if (unit == "m") scale = 60;
    else if (unit == "s") scale = 1;
    else if (unit == "ms") scale = 0.001;
    else return std::nullopt;
    total += *number * scale;
    any = true;
  }
  if (!any) return std::nullopt;
  return total;
}

std::optional<double> parse_rate(std::string_view text) {
  text = trim(text);
  const std::size_t slash = text.find('/');
  auto count = parse_number(trim(text.substr(0, slash)));
  if (!count || *count < 0) return std::nullopt;
  if (slash == std::string_view::npos) return count;
  const std::string_view unit = trim(text.substr(slash + 1));
  double per_seconds;
  if (unit == "s" || unit == "sec" || unit == "second") {
    per_seconds = 1;
  } else if (unit == "m" || unit == "min" || unit == "minute") {
    per_seconds = 60;
  } else if (unit == "h" || unit == "hour") {
    per_seconds = 3600;
  } else {
    // k6's timeUnit: "10/100ms" is ten iterations every 100 ms. A bare number is not a unit.
    auto duration = parse_number(unit) ? std::nullopt : parse_duration(unit);
    if (!duration || *duration <= 0) return std::nullopt;
    per_seconds = *duration;
  }
  return *count / per_seconds;
}

std::string run_usage() {
  return "usage: cicada run SCRIPT [USERCLASS ...] [options]\n"
         "\n"
         "Runs the user classes of SCRIPT (all classes with weight > 0 unless some are named).\n"
         "\n"
         "  -f, --locustfile SCRIPT     the scenario script (instead of the first argument)\n"
         "  -H, --host URL              base URL, e.g. http://127.0.0.1:8080 (default: the class's host)\n"
         "  -u, --users N               number of concurrent users (default 1)\n"
         "  -r, --spawn-rate N          users started per second (default 1)\n"
         "  -t, --run-time TIME         stop after TIME: 30s, 5m, 1h30m (default: until Ctrl-C)\n"
         "  -i, --iterations N          stop after N task runs in total\n"
         "      --iterations-per-user N each user ends after N task runs; the test ends when all have\n"
         "  -T, --tags TAG[,TAG]        run only tasks with one of these tags (repeatable)\n"
         "  -E, --exclude-tags TAG[,..] leave out tasks with one of these tags (wins over -T)\n"
         "      --stop-timeout TIME     let running tasks finish for up to TIME when users stop\n"
         "      --reset-stats           forget the stats of the ramp-up once all users are spawned\n"
         "      --insecure              do not verify TLS certificates (self-signed test servers)\n"
         "      --max-body-memory MIB   response bodies held in memory by all users together (default 512)\n"
         "      --threads N             worker threads (default: one per core)\n"
         "      --exit-code-on-error N  exit code when any request failed or a task raised (default 1)\n"
         "      --config FILE           read options from FILE (default: ./cicada.conf if present)\n"
         "  -l, --list                  print the user classes and exit\n"
         "      --show-task-ratio       print each class's task ratios and exit\n"
         "      --headless              accepted for Locust compatibility (cicada runs headless)\n"
         "\n"
         "The open model (see docs/load-models.md):\n"
         "      --arrival-rate RATE     start task iterations at RATE (500/s, 30/m) whatever the response\n"
         "                              times; response times count from each iteration's scheduled start\n"
         "      --max-users N           the pool of users serving iterations may grow to N (default: -u;\n"
         "                              -u defaults to the rate / 10 in the open model)\n"
         "      --max-queue-time TIME   an iteration waits this long for a free user, then is dropped\n"
         "                              (default 10s; 0 drops at once, as k6 does)\n"
         "\n"
         "Reports and thresholds (see docs/reports.md):\n"
         "      --csv PREFIX            Locust's CSV files: PREFIX_stats.csv, PREFIX_stats_history.csv,\n"
         "                              PREFIX_failures.csv, PREFIX_exceptions.csv, kept current while running\n"
         "      --csv-full-history      every entry in PREFIX_stats_history.csv, not only Aggregated\n"
         "      --html FILE             a self-contained HTML report with charts ({u} {r} {t}: users,\n"
         "                              spawn rate, run time)\n"
         "      --json                  the JSON summary to stdout (the tables then go to stderr)\n"
         "      --json-file FILE        the JSON summary to FILE\n"
         "      --junit FILE            JUnit XML, one test case per threshold\n"
         "      --print-stats           print the stats table every 2 seconds (the default)\n"
         "      --only-summary          print only the final report\n"
         "      --threshold EXPR        fail the run (exit code 3) unless EXPR holds, e.g. 'p95<100ms',\n"
         "                              'GET /items p99<200ms', 'error_rate<1%'; add 'abort_on_fail' (and\n"
         "                              'delay=10s') to stop the test once it is surely broken (repeatable)\n"
         "  -h, --help                  this help\n"
         "\n"
         "While a test runs in a terminal, w/W add 1 or 10 users and s/S remove 1 or 10 (as in Locust).\n"
         "\n"
         "Options also come from cicada.options{} in the script, the config file and CICADA_*\n"
         "variables (CICADA_USERS=10); the command line wins over the environment, which wins over\n"
         "the file, which wins over the script.\n"
         "\n"
         "Exit codes: 0 no failures, 1 failures or exceptions, 2 usage or script error,\n"
         "3 a threshold failed (wins over 1).\n";
}

bool parse_command_line(int argc, const char* const* argv, CommandLine* out, std::string* error) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") {
      for (++i; i < argc; ++i) out->positional.emplace_back(argv[i]);
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      out->positional.emplace_back(arg);
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      out->help = true;
      return true;
    }
    // --name=value, --name value, -u10, -u 10.
    std::string name;
    std::optional<std::string> inline_value;
    const OptionSpec* spec = nullptr;
    if (arg.starts_with("--")) {
      std::string_view body = arg.substr(2);
      if (auto eq = body.find('='); eq != std::string_view::npos) {
        inline_value = std::string(body.substr(eq + 1));
        body = body.substr(0, eq);
      }
      name = canonical(body);
      if (name == "config") {
        std::string value;
        if (inline_value) {
          value = *inline_value;
        } else if (i + 1 < argc) {
          value = argv[++i];
        } else {
          *error = "option --config needs a value";
          return false;
        }
        out->config_file = value;
        continue;
      }
      spec = find_option(name);
    } else {
      spec = find_short(arg[1]);
      if (arg.size() > 2) inline_value = std::string(arg.substr(2));
    }
    if (!spec) {
      *error = "unknown option " + std::string(arg.substr(0, arg.find('='))) + " (see cicada run --help)";
      return false;
    }
    std::string value;
    if (spec->kind == Kind::Flag) {
      value = inline_value.value_or("true");
    } else if (inline_value) {
      value = *inline_value;
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      *error = "option " + std::string(arg) + " needs a value";
      return false;
    }
    out->options.push_back({spec->name, std::move(value), "command line"});
  }
  return true;
}

bool parse_config_text(std::string_view text, const std::string& file_name, std::vector<RawOption>* out,
                       std::string* error) {
  int line_number = 0;
  while (!text.empty()) {
    std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    ++line_number;
    std::string where = file_name + ":" + std::to_string(line_number);
    if (auto comment = line.find_first_of("#;"); comment != std::string_view::npos) line = line.substr(0, comment);
    line = trim(line);
    if (line.empty() || line == "[cicada]") continue;
    auto eq = line.find('=');
    if (eq == std::string_view::npos) {
      *error = where + ": expected 'option = value', got '" + std::string(line) + "'";
      return false;
    }
    std::string name = canonical(trim(line.substr(0, eq)));
    if (!find_option(name)) {
      *error = where + ": unknown option '" + std::string(trim(line.substr(0, eq))) + "'";
      return false;
    }
    out->push_back({name, std::string(trim(line.substr(eq + 1))), where});
  }
  return true;
}

std::vector<RawOption> options_from_environment(const char* const* environ) {
  std::vector<RawOption> out;
  for (const char* const* entry = environ; entry && *entry; ++entry) {
    std::string_view text = *entry;
    if (!text.starts_with("CICADA_")) continue;
    auto eq = text.find('=');
    if (eq == std::string_view::npos) continue;
    std::string variable(text.substr(0, eq));
    std::string name = canonical(text.substr(7, eq - 7));
    if (!find_option(name)) continue;  // CICADA_BIN and friends belong to other tools
    out.push_back({name, std::string(text.substr(eq + 1)), variable});
  }
  return out;
}

bool apply_options(RunOptions* options, const std::vector<RawOption>& layer, std::string* error) {
  bool tags_seen = false, exclude_seen = false;
  std::vector<report::Threshold> layer_thresholds;
  for (const RawOption& raw : layer) {
    const OptionSpec* spec = find_option(raw.name);
    if (!spec) {
      *error = raw.source + ": unknown option '" + raw.name + "'";
      return false;
    }
    auto bad = [&] {
      *error = raw.source + ": " + spec->name + " needs " + spec->what + ", got '" + raw.value + "'";
      return false;
    };
    const std::string& v = raw.value;
    switch (spec->kind) {
      case Kind::Text:
        *text_option(options, raw.name) = v;
        break;
      case Kind::Count: {
        auto n = parse_integer(v);
        if (!n || *n < 0 || *n > 10'000'000) return bad();
        *count_option(options, raw.name) = static_cast<int>(*n);
        if (raw.name == "users") options->users_given = true;
        break;
      }
      case Kind::Positive: {
        auto n = parse_number(v);
        if (!n || *n <= 0) return bad();
        options->spawn_rate = *n;
        break;
      }
      case Kind::PositiveDuration: {
        auto d = parse_duration(v);
        if (!d || *d <= 0) return bad();
        options->run_time_s = *d;
        break;
      }
      case Kind::Duration: {
        auto d = parse_duration(v);
        if (!d) return bad();
        *duration_option(options, raw.name) = *d;
        break;
      }
      case Kind::Iterations: {
        auto n = parse_integer(v);
        if (!n || *n < 1) return bad();
        *iterations_option(options, raw.name) = *n;
        break;
      }
      case Kind::Threads: {
        auto n = parse_integer(v);
        if (!n || *n < 1 || *n > 1024) return bad();
        options->threads = static_cast<int>(*n);
        break;
      }
      case Kind::ExitCode: {
        auto n = parse_integer(v);
        if (!n || *n < 0 || *n > 255) return bad();
        options->exit_code_on_error = static_cast<int>(*n);
        break;
      }
      case Kind::TagList: {
        bool exclude = raw.name == "exclude-tags";
        auto& target = exclude ? options->exclude_tags : options->tags;
        bool& seen = exclude ? exclude_seen : tags_seen;
        if (!seen) target.clear();
        seen = true;
        for (auto& tag : split_tags(v)) target.push_back(std::move(tag));
        break;
      }
      case Kind::Rate: {
        auto rate = parse_rate(v);
        if (!rate || *rate <= 0) return bad();
        options->arrival_rate = *rate;
        break;
      }
      case Kind::Flag: {
        auto b = parse_bool(v);
        if (!b) return bad();
        if (bool* target = flag_option(options, raw.name)) *target = *b;
        break;
      }
      case Kind::ThresholdList: {
        if (split_thresholds(v).empty()) return bad();
        for (std::string_view expression : split_thresholds(v)) {
          std::string threshold_error;
          auto threshold = report::parse_threshold(expression, &threshold_error);
          if (!threshold) {
            *error = raw.source + ": threshold '" + std::string(trim(expression)) + "': " + threshold_error;
            return false;
          }
          threshold->source = raw.source;
          layer_thresholds.push_back(std::move(*threshold));
        }
        break;
      }
    }
  }
  report::add_threshold_layer(options->thresholds, layer_thresholds);
  return true;
}

bool resolve_command(int argc, const char* const* argv, const char* const* environ,
                     std::optional<std::string> (*file_reader)(const std::string& path), ResolvedCommand* out,
                     std::string* error) {
  CommandLine command;
  if (!parse_command_line(argc, argv, &command, error)) return false;
  if (command.help) {
    out->help = true;
    return true;
  }
  out->argv.assign(argv, argv + argc);
  out->cli_layer = command.options;
  out->env_layer = options_from_environment(environ);

  std::string config_file = command.config_file;
  bool explicit_config = !config_file.empty();
  if (!explicit_config) {
    for (const char* const* entry = environ; entry && *entry; ++entry)
      if (std::strncmp(*entry, "CICADA_CONFIG=", 14) == 0) config_file = *entry + 14, explicit_config = true;
  }
  if (config_file.empty()) config_file = "cicada.conf";
  if (auto text = file_reader(config_file)) {
    if (!parse_config_text(*text, config_file, &out->file_layer, error)) return false;
  } else if (explicit_config) {
    *error = "cannot read config file " + config_file;
    return false;
  }

  // The script and classes: positional arguments, unless -f (in any layer) names the script.
  for (const auto* layer : {&out->file_layer, &out->env_layer, &out->cli_layer})
    if (!apply_options(&out->options, *layer, error)) return false;
  bool script_from_flag = !out->options.script.empty();
  std::size_t first_class = 0;
  if (!script_from_flag) {
    if (command.positional.empty()) {
      *error = "no script given: cicada run SCRIPT.lua [options]";
      return false;
    }
    out->options.script = command.positional[0];
    first_class = 1;
    out->cli_layer.insert(out->cli_layer.begin(), {"locustfile", command.positional[0], "command line"});
  }
  out->options.user_classes.assign(command.positional.begin() + static_cast<std::ptrdiff_t>(first_class),
                                   command.positional.end());
  return true;
}

bool apply_script_layer(const ResolvedCommand& command, const std::vector<RawOption>& script_layer,
                        RunOptions* options, std::string* error) {
  RunOptions resolved;
  for (const auto* layer : {&script_layer, &command.file_layer, &command.env_layer, &command.cli_layer})
    if (!apply_options(&resolved, *layer, error)) return false;
  resolved.user_classes = command.options.user_classes;
  resolved.script = command.options.script;
  *options = std::move(resolved);
  return true;
}

}  // namespace cicada::cli
