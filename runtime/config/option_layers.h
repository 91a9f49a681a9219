#pragma once
// `cicada run` options, with Locust's flag names, from four layers of increasing precedence:
// the script's cicada.options{...}, a config file (./cicada.conf or --config FILE), CICADA_*
// environment variables, and the command line. Every layer is read as (name, text) pairs and
// goes through the same validation (the option table, runtime/config/option_table.h), so a bad
// value names where it came from.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/config/run_options.h"

namespace cicada::config {

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
// CICADA_USERS=10 and the like, from an environ-style array. Other CICADA_* names are ignored
// (the prefix is shared with other tools: CICADA_BIN in the tests), unless one is a near miss
// of an option (CICADA_USER): that is an error, as an unknown name is in every other layer.
bool options_from_environment(const char* const* environ, std::vector<RawOption>* out, std::string* error);

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

}  // namespace cicada::config
