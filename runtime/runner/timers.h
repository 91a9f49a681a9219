#pragma once
// libuv timer helpers for the runner's classes, whose handles carry their owner in `data`.
#include <uv.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace cicada::runner {

template <class T>
T* owner_of(void* handle) {
  return static_cast<T*>(static_cast<uv_handle_t*>(handle)->data);
}

inline void start_timer(uv_timer_t* timer, void (*callback)(uv_timer_t*), double first_s, double repeat_s) {
  uv_timer_start(timer, callback, static_cast<std::uint64_t>(std::llround(first_s * 1000)),
                 static_cast<std::uint64_t>(std::llround(repeat_s * 1000)));
}

// Fires no earlier than `deadline_s` on uv_hrtime()'s clock (libuv's own clock, in whole
// milliseconds, may lag behind it).
inline void start_timer_at(uv_loop_t* loop, uv_timer_t* timer, void (*callback)(uv_timer_t*), double deadline_s) {
  uv_update_time(loop);
  const double wait_ms = std::ceil(deadline_s * 1000.0) - static_cast<double>(uv_now(loop));
  uv_timer_start(timer, callback, static_cast<std::uint64_t>(std::max(0.0, wait_ms)) + 1, 0);
}

}  // namespace cicada::runner
