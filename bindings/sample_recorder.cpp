#include "bindings/sample_recorder.h"

#include <lua.hpp>

#include "runtime/common/thread_context.h"
#include "runtime/stats/stats_book.h"
#include "runtime/vu/scheduler.h"

namespace cicada::bindings {

namespace {

// `response_us` is what the stats recorded (corrected in the open model), `sample.response_us`
// the service time.
void push_sample_table(lua_State* L, const Sample& sample, std::uint64_t response_us, int response_index) {
  lua_createtable(L, 0, 9);
  lua_pushlstring(L, sample.method.data(), sample.method.size());
  lua_setfield(L, -2, "method");
  lua_pushlstring(L, sample.name.data(), sample.name.size());
  lua_setfield(L, -2, "name");
  lua_pushnumber(L, static_cast<double>(response_us) / 1000.0);
  lua_setfield(L, -2, "response_time");
  lua_pushnumber(L, static_cast<double>(sample.response_us) / 1000.0);
  lua_setfield(L, -2, "service_time");
  lua_pushnumber(L, static_cast<double>(sample.length));
  lua_setfield(L, -2, "length");
  lua_pushinteger(L, sample.status);
  lua_setfield(L, -2, "status");
  if (!sample.error.empty()) {
    lua_pushlstring(L, sample.error.data(), sample.error.size());
    lua_setfield(L, -2, "error");
  }
  lua_pushlstring(L, sample.url.data(), sample.url.size());
  lua_setfield(L, -2, "url");
  if (response_index) {
    lua_pushvalue(L, response_index);
    lua_setfield(L, -2, "response");
  }
}

// The dispatchers catch their listeners' errors themselves; a failure here is a bug in the
// stdlib, reported rather than allowed to unwind into the loop.
void call_dispatcher(lua_State* L, common::ThreadContext* context, int nargs) {
  if (lua_pcall(L, nargs, 0, 0) != 0) {
    const char* message = lua_tostring(L, -1);
    context->stats->record_exception(message ? message : "event dispatcher failed", "");
    lua_pop(L, 1);
  }
}

}  // namespace

void record_sample(lua_State* L, common::ThreadContext* context, const Sample& sample, int response_index,
                   int request_index) {
  // The open model measures from the iteration's scheduled start (docs/load-models.md).
  std::optional<std::uint64_t> lag_us;
  if (const vu::Scheduler* scheduler = context->scheduler)
    lag_us = scheduler->schedule_lag_us(sample.user ? sample.user : scheduler->sampling_user(L));
  const std::uint64_t response_us = sample.response_us + lag_us.value_or(0);
  context->stats->record_request(sample.method, sample.name, response_us, sample.length, sample.error,
                                 lag_us ? std::optional<std::uint64_t>(sample.response_us) : std::nullopt);
  if (context->request_listener_ref == LUA_NOREF && (sample.error.empty() || context->failure_listener_ref == LUA_NOREF))
    return;
  if (response_index < 0) response_index = lua_gettop(L) + response_index + 1;
  if (request_index < 0) request_index = lua_gettop(L) + request_index + 1;
  lua_checkstack(L, 8);
  if (context->request_listener_ref != LUA_NOREF) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, context->request_listener_ref);
    push_sample_table(L, sample, response_us, response_index);
    call_dispatcher(L, context, 1);
  }
  if (!sample.error.empty() && context->failure_listener_ref != LUA_NOREF) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, context->failure_listener_ref);
    if (request_index) {
      lua_pushvalue(L, request_index);
    } else {
      push_sample_table(L, sample, response_us, 0);
    }
    if (response_index) {
      lua_pushvalue(L, response_index);
    } else {
      lua_pushnil(L);
    }
    lua_pushlstring(L, sample.error.data(), sample.error.size());
    call_dispatcher(L, context, 3);
  }
}

}  // namespace cicada::bindings
