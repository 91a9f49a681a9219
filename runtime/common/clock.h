#pragma once
// The two clocks the run reads: the wall clock for what reports and peers show (unix seconds),
// and libuv's monotonic clock for durations.
#include <uv.h>

#include <chrono>

namespace cicada::common {

inline double unix_now_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

inline double monotonic_s() { return static_cast<double>(uv_hrtime()) / 1e9; }

}  // namespace cicada::common
