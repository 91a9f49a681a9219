#include "runtime/common/log.h"

#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <deque>
#include <mutex>

#include <sys/time.h>

namespace cicada::common {

namespace {

// Logging is rare (not per request): a lock is fine, and any thread may log.
std::mutex kept_lines_mutex;
std::deque<std::string> kept_lines;

void keep_line(std::string line) {
  std::lock_guard<std::mutex> lock(kept_lines_mutex);
  if (kept_lines.size() == kKeptLogLines) kept_lines.pop_front();
  kept_lines.push_back(std::move(line));
}

void log_line(const char* level, const char* format, va_list args) {
  timeval now{};
  gettimeofday(&now, nullptr);
  tm local{};
  localtime_r(&now.tv_sec, &local);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &local);
  char line[4096];
  std::vsnprintf(line, sizeof line, format, args);
  // One fprintf per line so lines from different threads do not interleave mid-line.
  char prefix[64];
  std::snprintf(prefix, sizeof prefix, "[%s,%03d] %s: ", stamp, static_cast<int>(now.tv_usec / 1000), level);
  std::fprintf(stderr, "%s%s\n", prefix, line);
  keep_line(std::string(prefix) + line);
}

}  // namespace

std::vector<std::string> recent_log_lines() {
  std::lock_guard<std::mutex> lock(kept_lines_mutex);
  return {kept_lines.begin(), kept_lines.end()};
}

#define CICADA_LOG_FUNCTION(name, level)   \
  void name(const char* format, ...) {     \
    va_list args;                          \
    va_start(args, format);                \
    log_line(level, format, args);         \
    va_end(args);                          \
  }

CICADA_LOG_FUNCTION(log_info, "INFO")
CICADA_LOG_FUNCTION(log_warning, "WARNING")
CICADA_LOG_FUNCTION(log_error, "ERROR")

}  // namespace cicada::common
