#pragma once
// Every option of `cicada run`, declared once. From this table come the command-line parser,
// cicada.conf, CICADA_* variables, cicada.options{} in scripts (which options a script may set,
// and the Lua type each takes), `cicada run --help` and the options table of docs/cli.md
// (`cicada options --markdown`, checked against the file by tests/integration/test_options_table.py).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "runtime/config/run_options.h"

namespace cicada::config {

// How a value is read and checked.
enum class Kind {
  Text,              // any text
  Count,             // a whole number >= 0
  Positive,          // a number > 0
  Duration,          // "10s", "1m30s", "250ms", or seconds; >= 0
  PositiveDuration,  // a duration > 0
  Iterations,        // a whole number >= 1
  Threads,           // 1..1024
  Processes,         // 1..1024, or -1: one per core
  ExitCode,          // 0..255
  TagList,           // "a,b c"; repeatable within a layer
  Flag,              // true/false/yes/no/on/off/1/0; a bare flag is true
  ThresholdList,     // threshold expressions separated by ';'; repeatable
  Rate,              // "500/s", "30/m", "10/100ms", or per second; > 0
  ConfigFile,        // --config: read before the other layers, not an option of the run
};

// Where an option is stored in RunOptions; monostate for an option that sets nothing (--config).
using OptionField =
    std::variant<std::monostate, std::string RunOptions::*, int RunOptions::*, double RunOptions::*,
                 std::int64_t RunOptions::*, bool RunOptions::*, std::vector<std::string> RunOptions::*,
                 std::vector<report::Threshold> RunOptions::*>;

// The usage text groups options under these headings.
enum class Section { Run, OpenModel, Reports, Web, Distributed };

struct OptionSpec {
  const char* name;        // canonical long name: --spawn-rate, spawn-rate in cicada.conf
  char short_flag;         // 0 when none
  Kind kind;
  OptionField field;
  const char* value_name;  // in the usage: N, TIME, URL ("" for flags)
  const char* help;        // `cicada run --help`: one or more lines ('\n' between them)
  const char* doc;         // docs/cli.md (Markdown); nullptr: the help, on one line
  const char* default_doc;  // docs/cli.md's default column (Markdown); "" when none applies
  Section section;
  bool script_may_set;     // may appear in cicada.options{}
  const char* alias;       // another long name that means the same ("script"), or nullptr
};

std::span<const OptionSpec> option_table();

// "spawn_rate", "Spawn-Rate" -> "spawn-rate": how option names from any layer are compared.
std::string canonical_option_name(std::string_view name);
// The row of a canonical name or alias; nullptr for an unknown name.
const OptionSpec* find_option(std::string_view canonical_name);
const OptionSpec* find_short_option(char flag);
// " (did you mean --spawn-rate?)" for a near miss, "" otherwise; `prefix` is how the layer
// writes names ("--", "CICADA_", "").
std::string did_you_mean(std::string_view canonical_name, std::string_view prefix);

// CICADA_SPAWN_RATE for spawn-rate.
std::string environment_name(const OptionSpec& spec);
// spawn_rate for spawn-rate: the key in cicada.options{}.
std::string script_key(const OptionSpec& spec);
// What cicada.options{} accepts for the option: "number", "string", "boolean", "duration"
// (a string like "30s" or seconds), "rate" (a string like "500/s" or per second) or "table"
// (a list of strings, or one string).
const char* script_type(const OptionSpec& spec);
// What a value must be, for messages: "a whole number >= 0".
const char* value_description(Kind kind);

// `cicada run --help`.
std::string run_usage();
// The Markdown table of docs/cli.md, between its `options-table` markers.
std::string options_markdown();

}  // namespace cicada::config
