#include "runtime/script/script_host.h"

#include <lua.hpp>
#include <uv.h>

#include <algorithm>
#include <string_view>

#include "runtime/common/thread_context.h"
#include "runtime/script/lua_value.h"
#include "runtime/script/source_names.h"
#include "runtime/script/thread_context_slot.h"
#include "stdlib_index.h"

namespace cicada::script {

namespace {

// package.preload loader for a stdlib module compiled into the binary.
int load_stdlib_module(lua_State* L) {
  const auto& module = stdlib_gen::kModules[lua_tointeger(L, lua_upvalueindex(1))];
  if (luaL_loadbuffer(L, module.bytecode, module.size, module.name) != 0) return lua_error(L);
  lua_pushstring(L, module.name);
  lua_call(L, 1, 1);
  return 1;
}

void add_preload(lua_State* L, const char* name, lua_CFunction loader) {
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "preload");
  lua_pushcfunction(L, loader);
  lua_setfield(L, -2, name);
  lua_pop(L, 2);
}

std::string directory_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// LuaJIT starts a collection when the heap reaches `pause`% of what the last one left, and
// each collection marks everything alive. A few busy users keep a small heap (≈ 200 KB) that
// fills with responses every few hundred requests: at a fixed pause of 150, marking and sweeping
// cost ≈ 7% of the user-space instructions of a request. So at the end of every cycle the pause
// is set again for the heap that is left: at least kGcHeadroomKb of room to grow, which makes
// collections rare for small heaps, and +50% for large ones (ten thousand users stay within
// their memory budget, and a fast-growing heap is never far from its next collection).
constexpr double kGcHeadroomKb = 2048;
constexpr double kMinGcPause = 150;
constexpr double kMaxGcPause = 5000;
const char kGcSentinelMetatable = 0;
const char kClosing = 0;

void push_gc_sentinel(lua_State* L);

// The finalizer of an unreferenced userdata runs once per cycle, after the sweep (when the
// heap holds about what is alive), before LuaJIT sets the next cycle's threshold from the pause.
int on_gc_cycle_end(lua_State* L) {
  lua_pushlightuserdata(L, const_cast<char*>(&kClosing));
  lua_rawget(L, LUA_REGISTRYINDEX);
  const bool closing = lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (closing) return 0;
  const double heap_kb = std::max(1, lua_gc(L, LUA_GCCOUNT, 0));
  const double pause = std::clamp(100.0 + 100.0 * kGcHeadroomKb / heap_kb, kMinGcPause, kMaxGcPause);
  lua_gc(L, LUA_GCSETPAUSE, static_cast<int>(pause));
  push_gc_sentinel(L);  // for the next cycle
  lua_pop(L, 1);
  return 0;
}

void push_gc_sentinel(lua_State* L) {
  lua_newuserdata(L, 1);
  lua_pushlightuserdata(L, const_cast<char*>(&kGcSentinelMetatable));
  lua_rawget(L, LUA_REGISTRYINDEX);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, on_gc_cycle_end);
    lua_setfield(L, -2, "__gc");
    lua_pushlightuserdata(L, const_cast<char*>(&kGcSentinelMetatable));
    lua_pushvalue(L, -2);
    lua_rawset(L, LUA_REGISTRYINDEX);
  }
  lua_setmetatable(L, -2);
}

// Runtime errors at the top level of a script come with their traceback.
int traceback_handler(lua_State* L) {
  const char* message = lua_tostring(L, 1);
  luaL_traceback(L, L, message ? message : "(error object is not a string)", 1);
  return 1;
}

}  // namespace

ScriptHost::ScriptHost(common::ThreadContext* context, std::span<const NativeModule> native_modules) {
  L_ = luaL_newstate();
  luaL_openlibs(L_);
  // LuaJIT's own pause is 200 (a collection when the heap has doubled); see on_gc_cycle_end.
  lua_gc(L_, LUA_GCSETPAUSE, static_cast<int>(kMinGcPause));
  push_gc_sentinel(L_);  // the pause follows the heap from the first cycle on
  lua_pop(L_, 1);
  context->main_state = L_;
  install_thread_context(L_, context);

  for (const NativeModule& module : native_modules) add_preload(L_, module.name, module.open);
  lua_getglobal(L_, "package");
  lua_getfield(L_, -1, "preload");
  for (std::size_t i = 0; i < std::size(stdlib_gen::kModules); ++i) {
    lua_pushinteger(L_, static_cast<lua_Integer>(i));
    lua_pushcclosure(L_, load_stdlib_module, 1);
    lua_setfield(L_, -2, stdlib_gen::kModules[i].name);
  }
  lua_pop(L_, 2);

  // Every thread draws different random numbers (LuaJIT's generator starts from a fixed seed).
  lua_getglobal(L_, "math");
  lua_getfield(L_, -1, "randomseed");
  lua_pushnumber(L_, static_cast<double>(uv_hrtime() % 1000000007ULL) + context->thread_index * 7919.0);
  lua_call(L_, 1, 0);
  lua_pop(L_, 1);
}

ScriptHost::~ScriptHost() { close(); }

void ScriptHost::close() {
  if (L_) {
    lua_pushlightuserdata(L_, const_cast<char*>(&kClosing));  // no new sentinel while closing
    lua_pushboolean(L_, 1);
    lua_rawset(L_, LUA_REGISTRYINDEX);
    lua_close(L_);
  }
  L_ = nullptr;
}

bool ScriptHost::load(const std::string& path, std::string* error) {
  script::thread_context_of(L_)->script_path = path;
  // require() finds modules next to the script first, then on the usual LUA_PATH.
  std::string dir = directory_of(path);
  lua_getglobal(L_, "package");
  lua_getfield(L_, -1, "path");
  std::string search = dir + "/?.lua;" + dir + "/?/init.lua;" + (lua_tostring(L_, -1) ? lua_tostring(L_, -1) : "");
  lua_pop(L_, 1);
  lua_pushlstring(L_, search.data(), search.size());
  lua_setfield(L_, -2, "path");
  lua_pop(L_, 1);

  lua_pushcfunction(L_, traceback_handler);
  int handler = lua_gettop(L_);
  int rc = luaL_loadfile(L_, path.c_str());
  if (rc == 0) rc = lua_pcall(L_, 0, 0, handler);
  if (rc != 0) {
    const char* message = lua_tostring(L_, -1);
    *error = message ? message : "unknown error";
    restore_long_source_names(error, path);
    lua_settop(L_, handler - 1);
    return false;
  }
  lua_settop(L_, handler - 1);
  return true;
}

// Pushes the stdlib's hooks for the runtime (stdlib/cicada/runtime.lua), which `require "cicada"`
// loads: a script that never required cicada declared nothing to run.
bool ScriptHost::push_runtime_module(std::string* error) {
  lua_getglobal(L_, "package");
  lua_getfield(L_, -1, "loaded");
  lua_getfield(L_, -1, "cicada");
  const bool cicada_loaded = lua_istable(L_, -1);
  lua_pop(L_, 1);
  lua_getfield(L_, -1, "cicada.runtime");
  lua_remove(L_, -2);
  lua_remove(L_, -2);
  if (!cicada_loaded || !lua_istable(L_, -1)) {
    lua_pop(L_, 1);
    *error = "the script never loaded cicada: start it with `local cicada = require \"cicada\"` and declare users with cicada.user()";
    return false;
  }
  return true;
}

// Calls the stdlib's runtime hook `function` with the `nargs` values on top of the stack.
bool ScriptHost::call_module(const char* function, int nargs, int nresults, std::string* error) {
  if (!push_runtime_module(error)) {
    lua_pop(L_, nargs);
    return false;
  }
  lua_getfield(L_, -1, function);
  lua_remove(L_, -2);
  lua_insert(L_, -(nargs + 1));
  if (lua_pcall(L_, nargs, nresults, 0) != 0) {
    *error = lua_tostring(L_, -1) ? lua_tostring(L_, -1) : std::string("error in cicada.runtime.") + function;
    lua_pop(L_, 1);
    return false;
  }
  return true;
}

namespace {

void push_string_list(lua_State* L, const std::vector<std::string>& list) {
  lua_createtable(L, static_cast<int>(list.size()), 0);
  for (std::size_t i = 0; i < list.size(); ++i) {
    lua_pushlstring(L, list[i].data(), list[i].size());
    lua_rawseti(L, -2, static_cast<int>(i + 1));
  }
}

int int_field(lua_State* L, int index, const char* name) {
  lua_getfield(L, index, name);
  int value = static_cast<int>(lua_tointeger(L, -1));
  lua_pop(L, 1);
  return value;
}

std::string string_field(lua_State* L, int index, const char* name) {
  lua_getfield(L, index, name);
  std::string value = lua_isstring(L, -1) ? lua_tostring(L, -1) : "";
  lua_pop(L, 1);
  return value;
}

}  // namespace

bool ScriptHost::configure(const std::vector<std::string>& tags, const std::vector<std::string>& exclude_tags,
                           std::string* error) {
  lua_createtable(L_, 0, 2);
  push_string_list(L_, tags);
  lua_setfield(L_, -2, "tags");
  push_string_list(L_, exclude_tags);
  lua_setfield(L_, -2, "exclude_tags");
  return call_module("configure", 1, 0, error);
}

bool ScriptHost::user_classes(std::vector<UserClassInfo>* out, std::string* error) {
  if (!call_module("classes", 0, 1, error)) return false;
  out->clear();
  int list = lua_gettop(L_);
  int count = static_cast<int>(lua_objlen(L_, list));
  for (int i = 1; i <= count; ++i) {
    lua_rawgeti(L_, list, i);
    int entry = lua_gettop(L_);
    UserClassInfo info;
    info.name = string_field(L_, entry, "name");
    info.weight = int_field(L_, entry, "weight");
    info.fixed_count = int_field(L_, entry, "fixed_count");
    info.host = string_field(L_, entry, "host");
    info.task_count = int_field(L_, entry, "tasks");
    info.declared_tasks = int_field(L_, entry, "declared");
    lua_pop(L_, 1);
    out->push_back(std::move(info));
  }
  lua_pop(L_, 1);
  return true;
}

bool ScriptHost::script_options(std::vector<std::pair<std::string, std::string>>* out, std::string* error) {
  if (!call_module("script_options", 0, 1, error)) return false;
  int options = lua_gettop(L_);
  lua_pushnil(L_);
  while (lua_next(L_, options) != 0) {
    std::string name = lua_tostring(L_, -2);
    std::string value;
    if (lua_istable(L_, -1)) {
      for (int i = 1;; ++i) {
        lua_rawgeti(L_, -1, i);
        if (lua_isnil(L_, -1)) {
          lua_pop(L_, 1);
          break;
        }
        if (!value.empty()) value += ",";
        value += lua_tostring(L_, -1) ? lua_tostring(L_, -1) : "";
        lua_pop(L_, 1);
      }
    } else if (lua_isboolean(L_, -1)) {
      value = lua_toboolean(L_, -1) ? "true" : "false";  // lua_tostring gives no text for booleans
    } else {
      lua_pushvalue(L_, -1);
      value = lua_tostring(L_, -1) ? lua_tostring(L_, -1) : "";
      lua_pop(L_, 1);
    }
    out->emplace_back(std::move(name), std::move(value));
    lua_pop(L_, 1);
  }
  lua_pop(L_, 1);
  return true;
}

bool ScriptHost::script_thresholds(std::vector<ScriptThreshold>* out, std::string* error) {
  if (!call_module("script_thresholds", 0, 1, error)) return false;
  const int list = lua_gettop(L_);
  const int count = static_cast<int>(lua_objlen(L_, list));
  for (int i = 1; i <= count; ++i) {
    lua_rawgeti(L_, list, i);
    const int entry = lua_gettop(L_);
    ScriptThreshold threshold;
    threshold.key = string_field(L_, entry, "key");
    threshold.delay = string_field(L_, entry, "delay");
    threshold.where = string_field(L_, entry, "where");
    lua_getfield(L_, entry, "abort_on_fail");
    threshold.abort_on_fail = lua_toboolean(L_, -1) != 0;
    lua_pop(L_, 1);
    lua_getfield(L_, entry, "conditions");
    const int conditions = static_cast<int>(lua_objlen(L_, -1));
    for (int c = 1; c <= conditions; ++c) {
      lua_rawgeti(L_, -1, c);
      threshold.conditions.emplace_back(lua_isstring(L_, -1) ? lua_tostring(L_, -1) : "");
      lua_pop(L_, 1);
    }
    lua_pop(L_, 2);
    out->push_back(std::move(threshold));
  }
  lua_pop(L_, 1);
  return true;
}

bool ScriptHost::load_shape(LoadShapeInfo* out, std::string* error) {
  *out = LoadShapeInfo{};
  if (!call_module("load_shape", 0, 1, error)) return false;
  const int shape = lua_gettop(L_);
  if (lua_istable(L_, shape)) {
    const std::string kind = string_field(L_, shape, "kind");
    out->kind = kind == "rate" ? LoadShapeInfo::Kind::Rate : LoadShapeInfo::Kind::Users;
    out->where = string_field(L_, shape, "where");
    lua_getfield(L_, shape, "stages");
    const int count = lua_istable(L_, -1) ? static_cast<int>(lua_objlen(L_, -1)) : 0;
    for (int i = 1; i <= count; ++i) {
      lua_rawgeti(L_, -1, i);
      lua_getfield(L_, -1, "duration");
      lua_getfield(L_, -2, "rate");
      out->rate_stages.emplace_back(lua_tonumber(L_, -2), lua_tonumber(L_, -1));
      lua_pop(L_, 3);
    }
    lua_pop(L_, 1);
  }
  lua_pop(L_, 1);
  return true;
}

bool ScriptHost::shape_tick(double run_time_s, ShapeTick* out, std::string* error) {
  *out = ShapeTick{};
  lua_pushnumber(L_, run_time_s);
  if (!call_module("shape_tick", 1, 4, error)) return false;
  const int base = lua_gettop(L_) - 3;
  bool ok = lua_toboolean(L_, base) != 0;
  if (!ok) {
    *error = lua_isstring(L_, base + 1) ? lua_tostring(L_, base + 1) : "the load shape failed";
  } else if (lua_isnil(L_, base + 1)) {
    out->ended = true;
  } else {
    out->users = static_cast<int>(lua_tointeger(L_, base + 1));
    out->spawn_rate = lua_tonumber(L_, base + 2);
    if (lua_istable(L_, base + 3)) {
      const int count = static_cast<int>(lua_objlen(L_, base + 3));
      for (int i = 1; i <= count; ++i) {
        lua_rawgeti(L_, base + 3, i);
        out->classes.emplace_back(lua_isstring(L_, -1) ? lua_tostring(L_, -1) : "");
        lua_pop(L_, 1);
      }
    }
  }
  lua_settop(L_, base - 1);
  return ok;
}

std::string ScriptHost::task_ratio_report(const std::vector<int>& class_user_counts) {
  std::string error;
  std::string report = call_with_counts("task_ratio_report", class_user_counts, &error);
  return error.empty() ? report : error + "\n";
}

std::string ScriptHost::task_ratios_json(const std::vector<int>& class_user_counts) {
  std::string error;
  std::string document = call_with_counts("task_ratios_json", class_user_counts, &error);
  return error.empty() ? document : "{}";
}

std::string ScriptHost::call_with_counts(const char* function, const std::vector<int>& counts, std::string* error) {
  lua_createtable(L_, static_cast<int>(counts.size()), 0);
  for (std::size_t i = 0; i < counts.size(); ++i) {
    lua_pushinteger(L_, counts[i]);
    lua_rawseti(L_, -2, static_cast<int>(i + 1));
  }
  if (!call_module(function, 1, 1, error)) return {};
  std::string text = lua_tostring(L_, -1) ? lua_tostring(L_, -1) : "";
  lua_pop(L_, 1);
  return text;
}

void ScriptHost::fire_init(bool coordinator, int thread_index) {
  lua_pushliteral(L_, "init");
  lua_createtable(L_, 0, 2);
  lua_pushboolean(L_, coordinator);
  lua_setfield(L_, -2, "coordinator");
  lua_pushinteger(L_, thread_index);
  lua_setfield(L_, -2, "thread");
  std::string error;
  call_module("fire", 2, 0, &error);
}

bool ScriptHost::set_setup_data(const LuaValue& value, std::string* error) {
  value.push(L_);
  return call_module("set_setup_data", 1, 0, error);
}

bool ScriptHost::module_predicate(const char* function, const char* argument) {
  int nargs = 0;
  if (argument) {
    lua_pushstring(L_, argument);
    nargs = 1;
  }
  std::string error;
  if (!call_module(function, nargs, 1, &error)) return false;
  bool result = lua_toboolean(L_, -1) != 0;
  lua_pop(L_, 1);
  return result;
}

ScriptHost::CoordinatorAction ScriptHost::new_coordinator_action(const std::string& host, const std::string& action,
                                                                const LuaValue* argument) {
  CoordinatorAction refs;
  lua_pushlstring(L_, host.data(), host.size());
  std::string error;
  if (!call_module("new_context", 1, 1, &error)) return refs;
  lua_pushlstring(L_, action.data(), action.size());
  lua_setfield(L_, -2, "__action");
  if (argument) {
    argument->push(L_);
    lua_setfield(L_, -2, "__arg");
  }
  lua_pushvalue(L_, -1);
  refs.outcome_ref = luaL_ref(L_, LUA_REGISTRYINDEX);
  refs.context_ref = luaL_ref(L_, LUA_REGISTRYINDEX);
  return refs;
}

ScriptHost::ActionOutcome ScriptHost::take_action_outcome(const CoordinatorAction& action, bool want_result) {
  ActionOutcome outcome;
  lua_rawgeti(L_, LUA_REGISTRYINDEX, action.outcome_ref);
  luaL_unref(L_, LUA_REGISTRYINDEX, action.outcome_ref);
  lua_getfield(L_, -1, "__error");
  outcome.error = lua_isstring(L_, -1) ? lua_tostring(L_, -1) : "";
  lua_pop(L_, 1);
  if (want_result && outcome.error.empty()) {
    lua_getfield(L_, -1, "__result");
    auto value = std::make_shared<LuaValue>();
    if (!LuaValue::copy_from(L_, -1, value.get(), &outcome.error, "setup data")) {
      outcome.error = "cicada.setup() returned something users cannot share: " + outcome.error;
    } else {
      outcome.result = std::move(value);
    }
    lua_pop(L_, 1);
  }
  lua_pop(L_, 1);
  return outcome;
}

int ScriptHost::module_function(const char* name) {
  std::string error;
  if (!push_runtime_module(&error)) return LUA_NOREF;
  lua_getfield(L_, -1, name);
  lua_remove(L_, -2);
  return luaL_ref(L_, LUA_REGISTRYINDEX);
}

UserHooks ScriptHost::scheduler_hooks() {
  UserHooks hooks;
  std::string error;
  if (!push_runtime_module(&error)) return hooks;
  lua_getfield(L_, -1, "new_user");
  hooks.new_user = luaL_ref(L_, LUA_REGISTRYINDEX);
  lua_getfield(L_, -1, "run_user");
  hooks.run_user = luaL_ref(L_, LUA_REGISTRYINDEX);
  lua_getfield(L_, -1, "stop_user");
  hooks.stop_user = luaL_ref(L_, LUA_REGISTRYINDEX);
  lua_pop(L_, 1);
  return hooks;
}

}  // namespace cicada::script
