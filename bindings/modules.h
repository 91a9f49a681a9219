#pragma once
// The native Lua modules, which the script host registers in package.preload.
#include <span>

#include "runtime/script/script_host.h"

struct lua_State;

namespace cicada::bindings {

int luaopen_cicada_core(lua_State* L);  // "cicada.core": scheduler hooks, sleep, time
int luaopen_cicada_http(lua_State* L);  // "cicada.http": client and response objects
int luaopen_cicada_json(lua_State* L);  // "cicada.json": JSON via lua-cjson

inline constexpr script::NativeModule kNativeModules[] = {
    {"cicada.core", luaopen_cicada_core},
    {"cicada.http", luaopen_cicada_http},
    {"cicada.json", luaopen_cicada_json},
};

}  // namespace cicada::bindings
