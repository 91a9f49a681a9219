#pragma once
// Progress and diagnostics go to stderr with a timestamp; tables and reports go to stdout.
namespace cicada::common {

void log_info(const char* format, ...) __attribute__((format(printf, 1, 2)));
void log_warning(const char* format, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace cicada::common
