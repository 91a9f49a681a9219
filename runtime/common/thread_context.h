#pragma once
// What the Lua bindings of one thread can reach: its loop, its scheduler, its stats and its
// HTTP runtime. One per worker thread, and one for the coordinator's Lua state (which has no
// virtual users, so no scheduler). Stored in the Lua registry of the thread's lua_State
// (runtime/script/thread_context_slot.h).
#include <uv.h>

#include <cstdint>
#include <atomic>
#include <functional>
#include <string>

struct lua_State;

namespace cicada::stats {
class StatsBook;
}
namespace cicada::vu {
class Scheduler;
}
namespace cicada::http {
class HttpRuntime;
}

namespace cicada::common {

// What a worker thread is running, for the coordinator to name when the thread stops
// answering (a task that never yields). Written by the worker at every task start, read by the
// coordinator only then: relaxed atomics, nothing else is shared. `task` points into the
// script's own task name string, which lives as long as the script's state.
struct RunningTask {
  std::atomic<int> class_index{-1};
  std::atomic<const char*> task{nullptr};
};

struct ThreadContext {
  uv_loop_t* loop = nullptr;
  int thread_index = -1;  // -1 on the coordinator
  bool is_coordinator = false;
  std::string host_override;  // -H/--host, empty when not given
  std::string script_path;    // as given on the command line
  lua_State* main_state = nullptr;  // the thread's Lua state (users run in its coroutines)
  vu::Scheduler* scheduler = nullptr;
  stats::StatsBook* stats = nullptr;
  http::HttpRuntime* http = nullptr;
  // Registry references to the stdlib's dispatchers, set only while the script has listeners
  // for these events, so that a request costs nothing extra without them.
  int request_listener_ref = -2;  // LUA_NOREF
  int failure_listener_ref = -2;
  // The HTTP client's metatable, to recognise a client userdata without a registry look-up.
  const void* client_metatable = nullptr;
  // A registry reference to the response metatable: every response is given it.
  int response_metatable_ref = -2;  // LUA_NOREF
  // cicada.stop_test(reason): asks the coordinator to end the test.
  std::function<void(const std::string& reason)> request_stop;
  RunningTask* running_task = nullptr;  // the worker's, for a watchdog on the coordinator

};

}  // namespace cicada::common
