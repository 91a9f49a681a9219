#include "runtime/cli/options.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>

namespace cicada::cli {

namespace {

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

}  // namespace

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

std::string run_usage() {
  return "usage: cicada run SCRIPT [USERCLASS ...] [options]\n"
         "\n"
         "Runs the user classes of SCRIPT (all classes with weight > 0 unless some are named).\n"
         "\n"
         "  -f, --locustfile SCRIPT   the scenario script (instead of the first argument)\n"
         "  -H, --host URL            base URL, e.g. http://127.0.0.1:8080 (default: the class's host)\n"
         "  -u, --users N             number of concurrent users (default 1)\n"
         "  -r, --spawn-rate N        users started per second (default 1)\n"
         "  -t, --run-time TIME       stop after TIME: 30s, 5m, 1h30m (default: until Ctrl-C)\n"
         "  -i, --iterations N        stop after N task runs in total\n"
         "      --threads N           worker threads (default: one per core)\n"
         "      --exit-code-on-error N  exit code when any request failed or a task raised (default 1)\n"
         "      --headless            accepted for Locust compatibility (cicada runs headless)\n"
         "  -h, --help                this help\n"
         "\n"
         "Exit codes: 0 no failures, 1 failures or exceptions, 2 usage or script error.\n";
}

ParsedRunOptions parse_run_options(int argc, const char* const* argv) {
  ParsedRunOptions result;
  RunOptions options;
  std::vector<std::string> positional;
  auto fail = [&](std::string message) {
    result.error = std::move(message);
    return result;
  };

  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") {
      for (++i; i < argc; ++i) positional.emplace_back(argv[i]);
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      positional.emplace_back(arg);
      continue;
    }
    // --flag=value and -u10 forms.
    std::string flag(arg);
    std::optional<std::string> inline_value;
    if (arg.starts_with("--")) {
      if (auto eq = arg.find('='); eq != std::string_view::npos) {
        flag = std::string(arg.substr(0, eq));
        inline_value = std::string(arg.substr(eq + 1));
      }
    } else if (arg.size() > 2) {
      flag = std::string(arg.substr(0, 2));
      inline_value = std::string(arg.substr(2));
    }
    auto value = [&]() -> std::optional<std::string> {
      if (inline_value) return inline_value;
      if (i + 1 >= argc) return std::nullopt;
      return std::string(argv[++i]);
    };

    if (flag == "-h" || flag == "--help") {
      result.help = true;
      return result;
    }
    if (flag == "--headless") {
      if (inline_value) return fail("--headless takes no value");
      continue;
    }
    auto v = value();
    if (!v) return fail("option " + flag + " needs a value");
    if (flag == "-f" || flag == "--locustfile" || flag == "--script") {
      options.script = *v;
    } else if (flag == "-H" || flag == "--host") {
      options.host = *v;
    } else if (flag == "-u" || flag == "--users") {
      auto n = parse_integer(*v);
      if (!n || *n < 0 || *n > 10'000'000) return fail("-u/--users needs a whole number >= 0, got '" + *v + "'");
      options.users = static_cast<int>(*n);
    } else if (flag == "-r" || flag == "--spawn-rate") {
      auto n = parse_number(*v);
      if (!n || *n <= 0) return fail("-r/--spawn-rate needs a number > 0, got '" + *v + "'");
      options.spawn_rate = *n;
    } else if (flag == "-t" || flag == "--run-time") {
      auto d = parse_duration(*v);
      if (!d || *d <= 0) return fail("-t/--run-time needs a duration like 30s, 5m or 1h30m, got '" + *v + "'");
      options.run_time_s = *d;
    } else if (flag == "-i" || flag == "--iterations") {
      auto n = parse_integer(*v);
      if (!n || *n < 1) return fail("-i/--iterations needs a whole number >= 1, got '" + *v + "'");
      options.iterations = *n;
    } else if (flag == "--threads") {
      auto n = parse_integer(*v);
      if (!n || *n < 1 || *n > 1024) return fail("--threads needs a whole number between 1 and 1024, got '" + *v + "'");
      options.threads = static_cast<int>(*n);
    } else if (flag == "--exit-code-on-error") {
      auto n = parse_integer(*v);
      if (!n || *n < 0 || *n > 255) return fail("--exit-code-on-error needs a number between 0 and 255, got '" + *v + "'");
      options.exit_code_on_error = static_cast<int>(*n);
    } else {
      return fail("unknown option " + flag + " (see cicada run --help)");
    }
  }

  std::size_t first_class = 0;
  if (options.script.empty()) {
    if (positional.empty()) return fail("no script given: cicada run SCRIPT.lua [options]");
    options.script = positional[0];
    first_class = 1;
  }
  options.user_classes.assign(positional.begin() + static_cast<std::ptrdiff_t>(first_class), positional.end());
  result.options = std::move(options);
  return result;
}

}  // namespace cicada::cli
