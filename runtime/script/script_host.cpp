#include "runtime/script/script_host.h"

#include <lua.hpp>
#include <uv.h>

#include <string_view>

#include "bindings/modules.h"
#include "runtime/loop/thread_context.h"
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

// Runtime errors at the top level of a script come with their traceback.
int traceback_handler(lua_State* L) {
  const char* message = lua_tostring(L, 1);
  luaL_traceback(L, L, message ? message : "(error object is not a string)", 1);
  return 1;
}

}  // namespace

ScriptHost::ScriptHost(loop::ThreadContext* context) {
  L_ = luaL_newstate();
  luaL_openlibs(L_);
  context->main_state = L_;
  context->install(L_);

  add_preload(L_, "cicada.core", bindings::luaopen_cicada_core);
  add_preload(L_, "cicada.http", bindings::luaopen_cicada_http);
  add_preload(L_, "cicada.json", bindings::luaopen_cicada_json);
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
  if (L_) lua_close(L_);
  L_ = nullptr;
}

bool ScriptHost::load(const std::string& path, std::string* error) {
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
    lua_settop(L_, handler - 1);
    return false;
  }
  lua_settop(L_, handler - 1);
  return true;
}

bool ScriptHost::push_cicada_module(std::string* error) {
  lua_getglobal(L_, "package");
  lua_getfield(L_, -1, "loaded");
  lua_getfield(L_, -1, "cicada");
  lua_remove(L_, -2);
  lua_remove(L_, -2);
  if (!lua_istable(L_, -1)) {
    lua_pop(L_, 1);
    *error = "the script never loaded cicada: start it with `local cicada = require \"cicada\"` and declare users with cicada.user()";
    return false;
  }
  return true;
}

bool ScriptHost::user_classes(std::vector<UserClassInfo>* out, std::string* error) {
  if (!push_cicada_module(error)) return false;
  lua_getfield(L_, -1, "_classes");
  if (lua_pcall(L_, 0, 1, 0) != 0) {
    *error = lua_tostring(L_, -1) ? lua_tostring(L_, -1) : "cannot list user classes";
    lua_pop(L_, 2);
    return false;
  }
  out->clear();
  int count = static_cast<int>(lua_objlen(L_, -1));
  for (int i = 1; i <= count; ++i) {
    lua_rawgeti(L_, -1, i);
    UserClassInfo info;
    lua_getfield(L_, -1, "name");
    info.name = lua_tostring(L_, -1);
    lua_getfield(L_, -2, "weight");
    info.weight = static_cast<int>(lua_tointeger(L_, -1));
    lua_getfield(L_, -3, "host");
    if (lua_isstring(L_, -1)) info.host = lua_tostring(L_, -1);
    lua_getfield(L_, -4, "tasks");
    info.task_count = static_cast<int>(lua_tointeger(L_, -1));
    lua_pop(L_, 5);
    out->push_back(std::move(info));
  }
  lua_pop(L_, 2);
  return true;
}

vu::Scheduler::LuaHooks ScriptHost::scheduler_hooks() {
  vu::Scheduler::LuaHooks hooks;
  std::string error;
  if (!push_cicada_module(&error)) return hooks;
  lua_getfield(L_, -1, "_new_user");
  hooks.new_user = luaL_ref(L_, LUA_REGISTRYINDEX);
  lua_getfield(L_, -1, "_run_user");
  hooks.run_user = luaL_ref(L_, LUA_REGISTRYINDEX);
  lua_getfield(L_, -1, "_stop_user");
  hooks.stop_user = luaL_ref(L_, LUA_REGISTRYINDEX);
  lua_pop(L_, 1);
  return hooks;
}

}  // namespace cicada::script
