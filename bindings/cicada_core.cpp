// cicada.core: the native side of the scenario DSL (the stdlib's cicada.lua drives it).
// Functions that suspend the calling user follow the scheduler's handshake: validate, start,
// register what is pending, then return lua_yield().
#include <lua.hpp>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

#include "bindings/lua_util.h"
#include "bindings/modules.h"
#include "bindings/sample_recorder.h"
#include "runtime/common/parse.h"
#include "runtime/common/thread_context.h"
#include "runtime/config/option_table.h"
#include "runtime/script/thread_context_slot.h"
#include "runtime/vu/scheduler.h"

namespace cicada::bindings {

namespace {

common::ThreadContext* context(lua_State* L) {
  return static_cast<common::ThreadContext*>(lua_touserdata(L, lua_upvalueindex(1)));
}

vu::Vu* running_user_or_error(lua_State* L, common::ThreadContext* ctx, const char* what) {
  vu::Vu* user = ctx->scheduler ? ctx->scheduler->running_user(L) : nullptr;
  if (!user) luaL_error(L, "%s can only be called from a user (a task, on_start or on_stop)", what);
  return user;
}

vu::Vu* running_user_or_error(lua_State* L, const char* what) { return running_user_or_error(L, context(L), what); }

int core_sleep(lua_State* L) {
  double seconds = luaL_checknumber(L, 1);
  if (!std::isfinite(seconds) || seconds < 0) return luaL_argerror(L, 1, "seconds must be a finite number >= 0");
  vu::Vu* user = running_user_or_error(L, "cicada.sleep");
  user->scheduler->sleep(user, seconds);
  return lua_yield(L, 0);
}

// true: run the next task; false: the user has run its --iterations-per-user and ends. When
// the iteration budget is used up the user is parked here; in the open model it waits here
// for the arrival schedule, which resumes it with true.
int core_begin_iteration(lua_State* L) {
  common::ThreadContext* ctx = context(L);
  vu::Vu* user = running_user_or_error(L, ctx, "begin_iteration");
  // begin_iteration(task name): published for the coordinator's watchdog (see RunningTask).
  if (common::RunningTask* running = ctx->running_task) {
    if (const char* task = lua_tolstring(L, 1, nullptr)) {
      running->class_index.store(user->class_index, std::memory_order_relaxed);
      running->task.store(task, std::memory_order_relaxed);
    }
  }
  switch (user->scheduler->begin_iteration(user)) {
    case vu::Scheduler::IterationStart::Go:
      lua_pushboolean(L, 1);
      return 1;
    case vu::Scheduler::IterationStart::UserDone:
      lua_pushboolean(L, 0);
      return 1;
    case vu::Scheduler::IterationStart::Wait:
      break;
  }
  return lua_yield(L, 0);
}

// True on a worker running the open model: iterations follow the arrival schedule, so users
// do not wait between tasks.
int core_open_model(lua_State* L) {
  common::ThreadContext* ctx = context(L);
  lua_pushboolean(L, ctx->scheduler && ctx->scheduler->arrivals());
  return 1;
}

// A number >= 0 as it is, or text read by `parse` (the command line's syntax); nil otherwise.
int push_number_or_parsed(lua_State* L, std::optional<double> (*parse)(std::string_view)) {
  std::optional<double> value;
  if (lua_type(L, 1) == LUA_TNUMBER) {
    if (lua_tonumber(L, 1) >= 0) value = lua_tonumber(L, 1);
  } else if (lua_type(L, 1) == LUA_TSTRING) {
    value = parse(to_view(L, 1));
  }
  if (!value || !std::isfinite(*value)) return 0;
  lua_pushnumber(L, *value);
  return 1;
}

// duration("30s") -> 30, duration(12) -> 12.
int core_duration(lua_State* L) { return push_number_or_parsed(L, common::parse_duration); }

// rate("500/s") -> 500, rate("30/m") -> 0.5, rate(20) -> 20.
int core_rate(lua_State* L) { return push_number_or_parsed(L, common::parse_rate); }

// After each task run (and after on_start): true to go on, false when the user was asked to
// stop once its task ended (--stop-timeout).
int core_end_task(lua_State* L) {
  vu::Vu* user = running_user_or_error(L, "end_task");
  lua_pushboolean(L, user->scheduler->end_task(user, L));
  return 1;
}

// task_boundary() -> go on?  end_task() between two tasks of the user's loop: a user that has
// not waited on anything since the last boundary first gives the loop a turn, since a task
// without I/O and a zero wait would otherwise keep the thread from stopping or reporting.
int core_task_boundary(lua_State* L) {
  vu::Vu* user = running_user_or_error(L, "task_boundary");
  vu::Scheduler* scheduler = user->scheduler;
  const bool go_on = scheduler->end_task(user, L);
  if (scheduler->must_yield_at_boundary(user)) {
    scheduler->yield_to_loop(user, go_on);
    return lua_yield(L, 0);
  }
  lua_pushboolean(L, go_on);
  return 1;
}

// The calling user waits here until the test stops it (after cicada.stop_test()).
int core_park(lua_State* L) {
  vu::Vu* user = running_user_or_error(L, "park");
  user->scheduler->park(user);
  return lua_yield(L, 0);
}

// exception(message, traceback): an error raised inside a task, counted like Locust does.
int core_exception(lua_State* L) {
  std::string message(to_view(L, 1));
  std::string traceback(to_view(L, 2));
  common::ThreadContext* ctx = context(L);
  if (ctx->scheduler) ctx->scheduler->record_exception(message, traceback);
  return 0;
}

// record{method=, name=, response_time= (ms), length=, error=, status=, url=}: a sample that did not
// come from the HTTP client (another protocol, a computed duration), with Locust's units.
int core_record(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  common::ThreadContext* ctx = context(L);
  lua_getfield(L, 1, "method");
  lua_getfield(L, 1, "name");
  lua_getfield(L, 1, "response_time");
  lua_getfield(L, 1, "length");
  lua_getfield(L, 1, "error");
  lua_getfield(L, 1, "status");
  lua_getfield(L, 1, "url");
  if (!lua_isstring(L, 3)) return luaL_error(L, "cicada.record: name must be a string");
  if (!lua_isnumber(L, 4) || lua_tonumber(L, 4) < 0) return luaL_error(L, "cicada.record: response_time must be milliseconds >= 0");
  Sample sample;
  sample.method = lua_isstring(L, 2) ? to_view(L, 2) : std::string_view("CUSTOM");
  sample.name = to_view(L, 3);
  sample.response_us = static_cast<std::uint64_t>(std::llround(lua_tonumber(L, 4) * 1000.0));
  sample.length = lua_isnumber(L, 5) ? static_cast<std::uint64_t>(std::max(0.0, lua_tonumber(L, 5))) : 0;
  if (!lua_isnil(L, 6) && !(lua_isboolean(L, 6) && !lua_toboolean(L, 6))) {
    if (!lua_isstring(L, 6)) {
      lua_getglobal(L, "tostring");
      lua_pushvalue(L, 6);
      lua_call(L, 1, 1);
      lua_replace(L, 6);
    }
    sample.error = to_view(L, 6);
    if (sample.error.empty()) sample.error = "error";
  }
  sample.status = static_cast<int>(lua_tointeger(L, 7));
  sample.url = lua_isstring(L, 8) ? to_view(L, 8) : sample.name;
  record_sample(L, ctx, sample, 0, 0);
  return 0;
}

// set_listeners(request_dispatcher|nil, failure_dispatcher|nil): installed by the stdlib when
// the script listens to `request` / `request_failure`, so requests skip them otherwise.
int core_set_listeners(lua_State* L) {
  common::ThreadContext* ctx = context(L);
  // The coordinator's own requests (setup, teardown, its events) are not part of the test.
  if (ctx->is_coordinator) return 0;
  int* slots[] = {&ctx->request_listener_ref, &ctx->failure_listener_ref};
  for (int i = 0; i < 2; ++i) {
    if (*slots[i] != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, *slots[i]);
    *slots[i] = LUA_NOREF;
    if (lua_isfunction(L, i + 1)) {
      lua_pushvalue(L, i + 1);
      *slots[i] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
  }
  return 0;
}

// stop_test(reason): asks the coordinator to stop the whole test.
int core_stop_test(lua_State* L) {
  common::ThreadContext* ctx = context(L);
  std::string reason = lua_isstring(L, 1) ? lua_tostring(L, 1) : "stop_test() called";
  if (ctx->request_stop) ctx->request_stop(reason);
  return 0;
}

int core_now(lua_State* L) {
  lua_pushnumber(L, static_cast<double>(uv_hrtime()) / 1e9);
  return 1;
}

int core_thread_index(lua_State* L) {
  lua_pushinteger(L, context(L)->thread_index);
  return 1;
}

int core_is_coordinator(lua_State* L) {
  lua_pushboolean(L, context(L)->is_coordinator);
  return 1;
}

// The -H/--host given on the command line, or nil.
int core_host_override(lua_State* L) {
  const std::string& host = context(L)->host_override;
  if (host.empty()) {
    lua_pushnil(L);
  } else {
    lua_pushlstring(L, host.data(), host.size());
  }
  return 1;
}

// { users = "number", run_time = "duration", ... }: what cicada.options{} accepts, from the
// option table (runtime/config/option_table.h).
int core_option_types(lua_State* L) {
  lua_newtable(L);
  for (const config::OptionSpec& spec : config::option_table()) {
    if (!spec.script_may_set) continue;
    lua_pushstring(L, config::script_type(spec));
    lua_setfield(L, -2, config::script_key(spec).c_str());
  }
  return 1;
}

}  // namespace

int luaopen_cicada_core(lua_State* L) {
  static const luaL_Reg functions[] = {
      {"sleep", core_sleep},
      {"begin_iteration", core_begin_iteration},
      {"task_boundary", core_task_boundary},
      {"open_model", core_open_model},
      {"duration", core_duration},
      {"rate", core_rate},
      {"end_task", core_end_task},
      {"park", core_park},
      {"record", core_record},
      {"set_listeners", core_set_listeners},
      {"stop_test", core_stop_test},
      {"exception", core_exception},
      {"now", core_now},
      {"thread_index", core_thread_index},
      {"is_coordinator", core_is_coordinator},
      {"host_override", core_host_override},
      {"option_types", core_option_types},
      {nullptr, nullptr},
  };
  common::ThreadContext* ctx = script::thread_context_of(L);
  if (!ctx) return luaL_error(L, "cicada.core loaded outside a cicada thread");
  lua_newtable(L);
  for (const luaL_Reg* fn = functions; fn->name; ++fn) {
    lua_pushlightuserdata(L, ctx);
    lua_pushcclosure(L, fn->func, 1);
    lua_setfield(L, -2, fn->name);
  }
  return 1;
}

}  // namespace cicada::bindings
