#include "runtime/common/log.h"

#include <cstdarg>
#include <cstdio>
#include <ctime>

#include <sys/time.h>

namespace cicada::common {

namespace {

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
  std::fprintf(stderr, "[%s,%03d] %s: %s\n", stamp, static_cast<int>(now.tv_usec / 1000), level, line);
}

}  // namespace

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
