#include "runtime/common/parse.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string>

#include "runtime/common/text.h"

namespace cicada::common {

std::optional<double> parse_number(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::string copy(text);
  char* end = nullptr;
  double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

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
  text = trim_space(text);
  const std::size_t slash = text.find('/');
  auto count = parse_number(trim_space(text.substr(0, slash)));
  if (!count || *count < 0) return std::nullopt;
  if (slash == std::string_view::npos) return count;
  const std::string_view unit = trim_space(text.substr(slash + 1));
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

}  // namespace cicada::common
