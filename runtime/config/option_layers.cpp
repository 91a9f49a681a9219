#include "runtime/config/option_layers.h"

#include <cctype>
#include <charconv>
#include <cstring>
#include <limits>
#include <variant>

#include "runtime/common/parse.h"
#include "runtime/common/text.h"
#include "runtime/config/option_table.h"

namespace cicada::config {

using common::parse_number;

namespace {

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

std::optional<std::int64_t> parse_integer(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<bool> parse_bool(std::string_view text) {
  const std::string lower = common::lowercase_ascii(common::trim_space(text));
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

// A whole number in [low, high], stored in an int or int64 field.
template <class Number>
bool set_integer(RunOptions* options, Number RunOptions::*field, std::string_view text, std::int64_t low,
                 std::int64_t high) {
  const auto n = parse_integer(text);
  if (!n || *n < low || *n > high) return false;
  options->*field = static_cast<Number>(*n);
  return true;
}

// The value of one option into its field; false when the value is not what the kind takes.
// Thresholds report their own errors (through `error`), everything else returns false and the
// caller says what was expected.
bool set_value(RunOptions* options, const OptionSpec& spec, const RawOption& raw, bool* list_seen,
               std::vector<report::Threshold>* layer_thresholds, std::string* error) {
  const std::string& v = raw.value;
  switch (spec.kind) {
    case Kind::Text:
      options->*std::get<std::string RunOptions::*>(spec.field) = v;
      return true;
    case Kind::Count:
      return set_integer(options, std::get<int RunOptions::*>(spec.field), v, 0, 10'000'000);
    case Kind::Iterations:
      return set_integer(options, std::get<std::int64_t RunOptions::*>(spec.field), v, 1,
                         std::numeric_limits<std::int64_t>::max());
    case Kind::Threads:
      return set_integer(options, std::get<int RunOptions::*>(spec.field), v, 1, 1024);
    case Kind::Processes:
      return v == "-1" ? (options->*std::get<int RunOptions::*>(spec.field) = -1, true)
                       : set_integer(options, std::get<int RunOptions::*>(spec.field), v, 1, 1024);
    case Kind::ExitCode:
      return set_integer(options, std::get<int RunOptions::*>(spec.field), v, 0, 255);
    case Kind::Positive: {
      const auto n = parse_number(v);
      if (!n || *n <= 0) return false;
      options->*std::get<double RunOptions::*>(spec.field) = *n;
      return true;
    }
    case Kind::Duration:
    case Kind::PositiveDuration: {
      const auto d = common::parse_duration(v);
      if (!d || (spec.kind == Kind::PositiveDuration && *d <= 0)) return false;
      options->*std::get<double RunOptions::*>(spec.field) = *d;
      return true;
    }
    case Kind::Rate: {
      const auto rate = common::parse_rate(v);
      if (!rate || *rate <= 0) return false;
      options->*std::get<double RunOptions::*>(spec.field) = *rate;
      return true;
    }
    case Kind::TagList: {
      auto& list = options->*std::get<std::vector<std::string> RunOptions::*>(spec.field);
      if (!*list_seen) list.clear();  // a layer's list replaces a lower layer's
      *list_seen = true;
      for (auto& tag : split_tags(v)) list.push_back(std::move(tag));
      return true;
    }
    case Kind::Flag: {
      const auto b = parse_bool(v);
      if (!b) return false;
      if (auto* field = std::get_if<bool RunOptions::*>(&spec.field)) options->**field = *b;
      return true;  // --headless: accepted, nothing to set
    }
    case Kind::ThresholdList: {
      if (split_thresholds(v).empty()) return false;
      for (std::string_view expression : split_thresholds(v)) {
        std::string threshold_error;
        auto threshold = report::parse_threshold(expression, &threshold_error);
        if (!threshold) {
          *error = raw.source + ": threshold '" + std::string(common::trim_space(expression)) + "': " + threshold_error;
          return false;
        }
        threshold->source = raw.source;
        layer_thresholds->push_back(std::move(*threshold));
      }
      return true;
    }
    case Kind::ConfigFile:
      *error = raw.source + ": config names the file the options come from; give it on the command line or as "
               "CICADA_CONFIG";
      return false;
  }
  return false;
}

}  // namespace

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
      name = canonical_option_name(body);
      spec = find_option(name);
      if (spec && spec->kind == Kind::ConfigFile) {
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
    } else {
      spec = find_short_option(arg[1]);
      if (arg.size() > 2) inline_value = std::string(arg.substr(2));
    }
    if (!spec) {
      *error = "unknown option " + std::string(arg.substr(0, arg.find('='))) +
               (name.empty() ? "" : did_you_mean(name, "--")) + " (see cicada run --help)";
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
    line = common::trim_space(line);
    if (line.empty() || line == "[cicada]") continue;
    auto eq = line.find('=');
    if (eq == std::string_view::npos) {
      *error = where + ": expected 'option = value', got '" + std::string(line) + "'";
      return false;
    }
    const std::string name = canonical_option_name(common::trim_space(line.substr(0, eq)));
    const OptionSpec* spec = find_option(name);
    if (!spec) {
      *error = where + ": unknown option '" + std::string(common::trim_space(line.substr(0, eq))) + "'" +
               did_you_mean(name, "");
      return false;
    }
    out->push_back({spec->name, std::string(common::trim_space(line.substr(eq + 1))), where});
  }
  return true;
}

bool options_from_environment(const char* const* environ, std::vector<RawOption>* out, std::string* error) {
  for (const char* const* entry = environ; entry && *entry; ++entry) {
    std::string_view text = *entry;
    if (!text.starts_with("CICADA_")) continue;
    auto eq = text.find('=');
    if (eq == std::string_view::npos) continue;
    std::string variable(text.substr(0, eq));
    const std::string name = canonical_option_name(text.substr(7, eq - 7));
    const OptionSpec* spec = find_option(name);
    if (!spec) {
      // CICADA_BIN and friends belong to other tools; a near miss of an option is a typo.
      if (const std::string hint = did_you_mean(name, "CICADA_"); !hint.empty()) {
        *error = variable + ": not an option" + hint;
        return false;
      }
      continue;
    }
    if (spec->kind == Kind::ConfigFile) continue;  // CICADA_CONFIG: read by resolve_command
    out->push_back({spec->name, std::string(text.substr(eq + 1)), variable});
  }
  return true;
}

bool apply_options(RunOptions* options, const std::vector<RawOption>& layer, std::string* error) {
  std::vector<bool> list_seen(option_table().size(), false);
  std::vector<report::Threshold> layer_thresholds;
  for (const RawOption& raw : layer) {
    const OptionSpec* spec = find_option(raw.name);
    if (!spec) {
      *error = raw.source + ": unknown option '" + raw.name + "'" + did_you_mean(raw.name, "");
      return false;
    }
    const auto row = static_cast<std::size_t>(spec - option_table().data());
    bool seen = list_seen[row];
    error->clear();
    if (!set_value(options, *spec, raw, &seen, &layer_thresholds, error)) {
      if (error->empty())
        *error = raw.source + ": " + spec->name + " needs " + value_description(spec->kind) + ", got '" + raw.value + "'";
      return false;
    }
    list_seen[row] = seen;
    if (spec->field == OptionField(&RunOptions::users)) options->users_given = true;
    if (spec->field == OptionField(&RunOptions::web) || spec->field == OptionField(&RunOptions::web_host) ||
        spec->field == OptionField(&RunOptions::web_port) || spec->field == OptionField(&RunOptions::web_auth))
      options->web_given = true;
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
  if (!options_from_environment(environ, &out->env_layer, error)) return false;

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
