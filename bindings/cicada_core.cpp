// cicada.core: the native side of the scenario DSL (the stdlib's cicada.lua drives it).
// Functions that suspend the calling user follow the scheduler's handshake: validate, start,
// register what is pending, then return lua_yield().
#include <lua.hpp>

#include <cmath>
#include <string>

#include "bindings/lua_util.h"
#include "bindings/modules.h"
#include "runtime/loop/thread_context.h"
#include "runtime/vu/scheduler.h"

namespace cicada::bindings {

namespace {

loop::ThreadContext* context(lua_State* L) {
  return static_cast<loop::ThreadContext*>(lua_touserdata(L, lua_upvalueindex(1)));
}

vu::Vu* running_user_or_error(lua_State* L, const char* what) {
  loop::ThreadContext* ctx = context(L);
  vu::Vu* user = ctx->scheduler ? ctx->scheduler->running_user(L) : nullptr;
  if (!user) luaL_error(L, "%s can only be called from a user (a task, on_start or on_stop)", what);
  return user;
}

int core_sleep(lua_State* L) {
  double seconds = luaL_checknumber(L, 1);
  if (!std::isfinite(seconds) || seconds < 0) return luaL_argerror(L, 1, "seconds must be a finite number >= 0");
  vu::Vu* user = running_user_or_error(L, "cicada.sleep");
  user->scheduler->sleep(user, seconds);
  return lua_yield(L, 0);
}

// true: run the next task. When the iteration budget is used up the user is parked here.
int core_begin_iteration(lua_State* L) {
  vu::Vu* user = running_user_or_error(L, "begin_iteration");
  if (user->scheduler->begin_iteration(user)) {
    lua_pushboolean(L, 1);
    return 1;
  }
  return lua_yield(L, 0);
}

int core_end_iteration(lua_State* L) {
  vu::Vu* user = running_user_or_error(L, "end_iteration");
  user->scheduler->end_iteration(user);
  return 0;
}

// exception(message, traceback): an error raised inside a task, counted like Locust does.
int core_exception(lua_State* L) {
  std::string message(to_view(L, 1));
  std::string traceback(to_view(L, 2));
  loop::ThreadContext* ctx = context(L);
  if (ctx->scheduler) ctx->scheduler->record_exception(message, traceback);
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

}  // namespace

int luaopen_cicada_core(lua_State* L) {
  static const luaL_Reg functions[] = {
      {"sleep", core_sleep},
      {"begin_iteration", core_begin_iteration},
      {"end_iteration", core_end_iteration},
      {"exception", core_exception},
      {"now", core_now},
      {"thread_index", core_thread_index},
      {"is_coordinator", core_is_coordinator},
      {"host_override", core_host_override},
      {nullptr, nullptr},
  };
  loop::ThreadContext* ctx = loop::ThreadContext::from(L);
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
