#include "runtime/report/run_info.h"

#include <algorithm>
#include <cmath>
#include <ctime>

#include "runtime/report/text_format.h"

namespace cicada::report {

std::string iso8601_utc(double unix_s) {
  if (unix_s <= 0) return {};
  const auto seconds = static_cast<std::time_t>(std::floor(unix_s));
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

std::string shell_command(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& word : argv) {
    if (!out.empty()) out += ' ';
    const bool plain = !word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                                "0123456789-_./:=,+@%") == std::string::npos;
    if (plain) {
      out += word;
      continue;
    }
    out += '\'';
    for (char c : word) {
      if (c == '\'') {
        out += "'\\''";
      } else {
        out += c;
      }
    }
    out += '\'';
  }
  return out;
}

std::string RunInfo::arrival_rate_text() const {
  if (rate_stages.empty()) return format_decimal(arrival_rate, 3) + "/s";
  double peak = arrival_rate;
  for (const auto& stage : rate_stages) peak = std::max(peak, stage.second);
  return std::to_string(rate_stages.size()) + " stage" + (rate_stages.size() == 1 ? "" : "s") + " from " +
         format_decimal(arrival_rate, 3) + "/s, peak " + format_decimal(peak, 3) + "/s";
}

}  // namespace cicada::report
