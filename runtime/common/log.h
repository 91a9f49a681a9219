#pragma once
// Progress and diagnostics go to stderr with a timestamp; tables and reports go to stdout.
#include <cstddef>
#include <string>
#include <vector>

namespace cicada::common {

// The last kKeptLogLines lines logged, oldest first, as printed (for the web UI's /logs).
inline constexpr std::size_t kKeptLogLines = 500;
std::vector<std::string> recent_log_lines();

void log_info(const char* format, ...) __attribute__((format(printf, 1, 2)));
void log_warning(const char* format, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace cicada::common
