#pragma once
// Durations and rates as people write them, shared by the options, thresholds, the stdlib
// (cicada.duration, cicada.rate) and the target's --stall.
#include <optional>
#include <string_view>

namespace cicada::common {

// "30s", "5m", "1h30m", "2h", "90" (seconds), "1.5s", "250ms". nullopt when malformed.
std::optional<double> parse_duration(std::string_view text);
// An arrival rate, per second: "500/s", "500" (per second), "30/m", "2/h", "10/100ms". nullopt
// when malformed; 0 is allowed (a ramp may start or end there).
std::optional<double> parse_rate(std::string_view text);
// A finite decimal number (strtod's syntax, nothing around it). nullopt when malformed.
std::optional<double> parse_number(std::string_view text);

}  // namespace cicada::common
